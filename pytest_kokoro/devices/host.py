"""``--kokoro-device=host`` (the default): ``python -m pytest_kokoro.harness``, a subprocess on stdio, running an
engine of ``core.engines.HOST_ENGINES`` (the real Kokoro-82M on onnxruntime by default)."""

from __future__ import annotations

from pytest_kokoro.core.engines import HOST_ENGINES
from pytest_kokoro.core.options import Option, assignment
from pytest_kokoro.devices.base import DeviceKind, DeviceRun, DeviceSettings, DeviceSpec


def _model_file(text: str) -> tuple[str, str]:
    try:
        return assignment(text)
    except ValueError:
        raise ValueError(f"expected VARIANT=PATH, e.g. fp16=kokoro-v1.0.fp16.onnx; got {text!r}") from None


class HostKind(DeviceKind):
    name = "host"
    description = "the host harness (python -m pytest_kokoro.harness) on this machine, the default"
    engines = HOST_ENGINES
    order = 0
    options = (
        Option("--kokoro-model", _model_file, "host: a model file you have for a variant (fp32, fp16: the kokoro-onnx "
               "release files); repeat for several", metavar="VARIANT=PATH", action="append"),
        Option("--kokoro-voice-pack", str, "host: a voice pack file with more voices, e.g. the English "
               "voices-v1.0.bin", metavar="PATH"),
    )

    @staticmethod
    def models(settings: DeviceSettings) -> dict[str, str]:
        return dict(settings.option("kokoro_model") or ())

    def defaults(self, engine: str | None, settings: DeviceSettings) -> tuple[list[str], list[str]]:
        """The engine's own, plus each --kokoro-model variant that no engine has of its own (fp32, fp16 ONNX files);
        a model given for an engine's variant (an official MLX folder for bf16) only says where that one is."""
        variants, voices = super().defaults(engine, settings)
        known = {v for row in self.engines.engines for v in row.variants}
        extra = [variant for variant in self.models(settings) if variant not in known]
        return [*variants, *extra], voices

    def preflight(self, settings: DeviceSettings, engine: str | None) -> str | None:
        from pytest_kokoro.devices import subprocess as local  # numpy, via the client: only when used

        return local.host_extra_problem()

    def open(self, spec: DeviceSpec, settings: DeviceSettings, engine: str | None) -> DeviceRun:
        models, voice_pack = self.models(settings), settings.option("kokoro_voice_pack")
        from pytest_kokoro.devices import subprocess as local  # numpy, via the client: only when used

        return DeviceRun(lambda: local.host_device(settings.results_dir, models, voice_pack,
                                                   engine or self.default_engine()))


KIND = HostKind()
