"""``--kokoro-device=swift``: the ios-harness CLI, a subprocess on stdio, running the Swift timing code that runs on
the phone, on an engine of ``core.engines.SWIFT_ENGINES`` (the real model through sherpa-onnx where its library is
installed, else the SIMULATED scripted engine)."""

from __future__ import annotations

from pytest_kokoro.core.engines import SWIFT_ENGINES
from pytest_kokoro.devices.base import DeviceKind, DeviceRun, DeviceSettings, DeviceSpec


class SwiftKind(DeviceKind):
    name = "swift"
    description = "the ios-harness CLI (swift build), the phone's timing code on this machine"
    engines = SWIFT_ENGINES
    order = 10

    def preflight(self, settings: DeviceSettings, engine: str | None) -> str | None:
        from pytest_kokoro.devices import subprocess as local  # numpy, via the client: only when used

        return local.swift_toolchain_problem()

    def open(self, spec: DeviceSpec, settings: DeviceSettings, engine: str | None) -> DeviceRun:
        from pytest_kokoro.devices import subprocess as local  # numpy, via the client: only when used

        return DeviceRun(lambda: local.swift_device(settings.results_dir, engine=engine or self.default_engine()))


KIND = SwiftKind()
