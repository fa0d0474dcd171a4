"""The host harness: ``python -m pytest_kokoro.harness``, protocol v1 over stdio (docs/protocol.md).

A long-lived process that owns one engine (the real Kokoro-82M on onnxruntime), loads variants, runs requests
and streams events. Every timestamp is taken here, on this process's monotonic clock, right after the samples
of a chunk exist. A bad request gets an error event; the harness keeps serving.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from pytest_kokoro import __version__
from pytest_kokoro.core import protocol
from pytest_kokoro.core.calibration import measure_calibration
from pytest_kokoro.core.engines import HOST_ENGINES
from pytest_kokoro.core.metrics import SAMPLE_RATE, NoAudioError, derive_metrics, replay_playback, time_to_first_audible
from pytest_kokoro.core.pace import PACE_PROBES, Pace, fit_pace
from pytest_kokoro.core.protocol import ProtocolError, Request, encode_audio, error_event
from pytest_kokoro.core.schema import HarnessResult
from pytest_kokoro.core.sentences import clean_text, split_text
from pytest_kokoro.harness.heat import cpu_frequency_mhz, cpu_temperature_c
from pytest_kokoro.harness.memory import PeakMemoryMeter
from pytest_kokoro.harness.onnx_engine import EngineError, OnnxKokoroEngine

HARNESS_NAME = "pytest_kokoro.harness"
WARMUP_TEXT = "Hi."

Emit = Callable[[dict[str, Any]], None]


class Harness:
    def __init__(self, engine: OnnxKokoroEngine, emit: Emit):
        self.engine = engine
        self.emit = emit
        self.memory = PeakMemoryMeter()
        self._platform = {"platform": platform.system(), "device_model": platform.machine(),
                          "os_version": platform.release()}
        self._paces: dict[tuple[str, str, float], Pace] = {}

    def handle_line(self, line: bytes) -> bool:
        """Serve one request line; False once the harness should exit."""
        try:
            request = protocol.parse_request(line)
        except ProtocolError as error:
            self.emit(error.as_event())
            return not error.fatal
        try:
            return self.handle(request)
        except EngineError as error:
            self.emit(error_event(error.code, str(error), request_id=request.fields.get("id")))
        except Exception as error:  # the harness stays up for the next case whatever an engine does
            traceback.print_exc(file=sys.stderr)
            self.emit(error_event("internal", f"{type(error).__name__}: {error} (harness bug; see its stderr)",
                                  request_id=request.fields.get("id")))
        return True

    def handle(self, request: Request) -> bool:
        if request.type == "hello":
            self.emit({"type": "hello", "protocol": protocol.PROTOCOL_VERSION, "harness": HARNESS_NAME,
                       "harness_version": __version__, "engine": self.engine.name,
                       "engine_version": self.engine.version, "simulated": self.engine.simulated,
                       **self._platform, "variants": self.engine.variants(), "voices": self.engine.voices(),
                       "sample_rate": SAMPLE_RATE})
        elif request.type == "load":
            self.emit({"type": "loaded", **self._load(request.variant)})
        elif request.type == "unload":
            self.engine.unload(request.variant)
            self.emit({"type": "unloaded", "variant": request.variant})
        elif request.type == "run":
            self._run(request)
        elif request.type == "conditions":
            self.emit({"type": "conditions", "id": request.id, **self._conditions()})
        elif request.type == "ping":
            self.emit({"type": "pong", "id": request.id})
        elif request.type == "shutdown":
            self.emit({"type": "bye"})
            return False
        return True

    @staticmethod
    def _conditions() -> dict[str, Any]:
        """The machine's heat now (docs/results.md "Heat"): no thermal state on the host (that is Apple's
        ProcessInfo, read by the Swift harness), the sysfs readings where there are any, and the calibration
        workload, the one signal every machine has."""
        return {"thermal_state": None, "cpu_temperature_c": cpu_temperature_c(),
                "cpu_frequency_mhz": cpu_frequency_mhz(), "calibration_time": measure_calibration()}

    def _load(self, variant: str) -> dict[str, Any]:
        cold = not self.engine.is_loaded(variant)
        started = time.perf_counter()
        loaded = self.engine.load(variant) if cold else self.engine.loaded(variant)
        load_time = time.perf_counter() - started if cold else 0.0
        return {"variant": variant, "model_name": loaded.model_name, "model_description": loaded.model_description,
                "model_load_time": load_time, "cold": cold, "variant_sha256": loaded.sha256}

    def _run(self, request: Request) -> None:
        run_id = request.id
        chunks = split_text(request.text, request.split)
        if not chunks:
            raise EngineError("empty_text", "the text has nothing to say once cleaned (empty, whitespace or control "
                              "characters only); give it words")
        setup_start = time.perf_counter()  # cold_time_to_first_audio counts from the load: load, voice, warm-up
        load = self._load(request.variant)
        voice = self.engine.voice(request.voice)
        if request.warmup:
            self.engine.synthesize(request.variant, WARMUP_TEXT, voice, request.voice, request.speed)
        setup_time = time.perf_counter() - setup_start  # the harness's own calibration is no wait a user feels
        pace = None
        if request.split == "adaptive":
            pace = self._pace(request, voice)
            chunks = split_text(request.text, request.split, pace=pace)
        before = self._conditions()  # heat and the calibration workload, before the memory reset and T1
        self.memory.reset()
        reset_engine_memory = getattr(self.engine, "reset_peak_memory", None)
        if reset_engine_memory is not None:  # the mlx engine: MLX's own allocator peak, beside the process's
            reset_engine_memory()
        times: list[float] = []
        counts: list[int] = []
        audio: list[np.ndarray] = []
        clock_start = time.perf_counter()  # T1
        for index, chunk in enumerate(chunks):
            samples = self.engine.synthesize(request.variant, chunk, voice, request.voice, request.speed)
            t = time.perf_counter() - clock_start
            times.append(t)
            counts.append(int(samples.size))
            audio.append(samples)
            self.emit({"type": "chunk", "id": run_id, "index": index, "text": chunk, "samples": int(samples.size), "t": t})
        peak_memory_gb = self.memory.peak_gb()
        after = self._conditions()  # the clock has stopped: the same readings again, after the last chunk
        try:
            metrics = derive_metrics(times, counts, load["model_load_time"])
        except NoAudioError:
            raise EngineError("unspeakable_text", "the text yields no phonemes the model knows, so no audio; "
                              "give it words in a language espeak-ng reads") from None
        # Audio goes out after the clock stopped: encoding it must not cost the timed region anything.
        if request.send_audio:
            for index, samples in enumerate(audio):
                self.emit({"type": "audio", "id": run_id, "index": index, "encoding": protocol.AUDIO_ENCODING,
                           "data": encode_audio(samples)})
        whole = np.concatenate(audio)
        # The typed result (core/schema.py): a misspelt, missing or mistyped key fails here, in the harness, not in
        # whoever reads the file later.
        result = HarnessResult(
            model_name=load["model_name"], model_description=load["model_description"],
            text=request.text, voice=request.voice, model_load_time=load["model_load_time"],
            inference_time=metrics.inference_time, total_time=metrics.total_time,
            time_to_first_audio=metrics.time_to_first_audio,
            per_sentence_inference=metrics.per_sentence_inference, audio_duration=metrics.audio_duration,
            real_time_factor=metrics.real_time_factor, samples_per_sec=metrics.samples_per_sec,
            peak_memory_gb=peak_memory_gb, sample_rate=SAMPLE_RATE,
            variant=request.variant, round=request.round, cold=load["cold"], warmup=request.warmup,
            speed=request.speed, split=request.split, chunk_count=metrics.chunk_count, samples=metrics.samples,
            time_to_first_audible=time_to_first_audible(metrics.time_to_first_audio, whole),
            memory_source=self.memory.source, engine=self.engine.name, engine_version=self.engine.version,
            harness_version=__version__, simulated=self.engine.simulated, **self._platform,
            variant_sha256=load["variant_sha256"], thermal_state_before=before["thermal_state"],
            thermal_state_after=after["thermal_state"], calibration_time=before["calibration_time"],
            calibration_time_after=after["calibration_time"], cpu_temperature_c_before=before["cpu_temperature_c"],
            cpu_temperature_c_after=after["cpu_temperature_c"], cpu_frequency_mhz_before=before["cpu_frequency_mhz"],
            cpu_frequency_mhz_after=after["cpu_frequency_mhz"], playback=False,  # the host harness plays nothing
            chunk_samples=counts,
            **replay_playback(times, counts).result_keys(),
            cold_time_to_first_audio=setup_time + metrics.time_to_first_audio if load["cold"] else None,
            # The host harness has no audio player: only the iPhone app reports when chunks really played.
            played_chunk_starts=None,
            adaptive_pace=pace.as_json() if pace else None,
            onnxruntime_version=self.engine.onnxruntime_version,
        ).model_dump(mode="json")
        extras = getattr(self.engine, "result_extras", None)
        if extras is not None:  # engine keys after the harness's (the mlx engine: weights_source, mlx_peak_memory_gb)
            result.update(extras(request.variant))
        self.emit({"type": "done", "id": run_id, "result": result})

    def _pace(self, request: Request, voice: np.ndarray) -> Pace:
        """This device's pace for ``adaptive`` (core/pace.py): the PACE_PROBES synthesized untimed, once per
        variant, voice and speed in this process, so every round of a case cuts its text the same way."""
        key = (request.variant, request.voice, request.speed)
        if key not in self._paces:
            probes = []
            for text in PACE_PROBES:
                started = time.perf_counter()
                samples = self.engine.synthesize(request.variant, text, voice, request.voice, request.speed)
                probes.append((len(clean_text(text)), time.perf_counter() - started, samples.size / SAMPLE_RATE))
            self._paces[key] = fit_pace(probes)
        return self._paces[key]


def read_lines(stream: IO[bytes], limit: int = protocol.MAX_LINE_BYTES):
    """Request lines from ``stream``; an over-long line comes out as one oversized marker, its rest discarded."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # discard the rest of the over-long line
                rest = stream.readline(limit)
                if not rest or rest.endswith(b"\n"):
                    break
            yield b"x" * (limit + 1)
            continue
        if line.strip():
            yield line


def serve(harness: Harness, stream: IO[bytes]) -> None:
    for line in read_lines(stream):
        if not harness.handle_line(line):
            return


class InjectedSlowdown:
    """FAULT INJECTION for testing the regression gates: makes every synthesis ``fraction`` slower by sleeping
    after it. Turned on only by PYTEST_KOKORO_INJECT_SLOWDOWN; its results say so in engine_version."""

    def __init__(self, engine: OnnxKokoroEngine, fraction: float):
        self._engine = engine
        self._fraction = fraction
        self.version = f"{engine.version} + injected slowdown {fraction:.0%}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def synthesize(self, *args: Any) -> np.ndarray:
        started = time.perf_counter()
        samples = self._engine.synthesize(*args)
        time.sleep((time.perf_counter() - started) * self._fraction)
        return samples


def make_engine(args: argparse.Namespace):
    """The engine of ``HOST_ENGINES`` (core/engines.py) named by --engine, imported only when asked for. An engine
    that takes user files (--model, --voice-pack) says so with ``takes_user_files``; the others refuse them."""
    row = HOST_ENGINES.get(args.engine)
    module_name, _, class_name = row.implementation.partition(":")
    engine_class = getattr(importlib.import_module(module_name), class_name)
    if getattr(engine_class, "takes_user_files", False):
        return engine_class(args.models, args.voice_pack)
    if args.models or args.voice_pack:
        raise EngineError("bad_value", f"the {row.name} engine has the int8 model and the host's voices only; "
                          "--model and --voice-pack go with --engine onnxruntime")
    return engine_class()


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pytest_kokoro.harness", description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], metavar="VARIANT=PATH",
                        help="an ONNX model file for a variant (fp32, fp16, ...); int8 is always there")
    parser.add_argument("--voice-pack", metavar="PATH", help="an .npz/.bin voice pack with more voices (af_heart, ...)")
    parser.add_argument("--engine", choices=HOST_ENGINES.names(), default=HOST_ENGINES.engines[0].name,
                        help=HOST_ENGINES.help())
    args = parser.parse_args(argv)
    models = {}
    for item in args.model:
        variant, sep, path = item.partition("=")
        if not sep or not variant or not path:
            parser.error(f"--model takes VARIANT=PATH, got {item!r}")
        models[variant] = path
    args.models = models
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    # The event stream is the real stdout; anything else that writes to fd 1 (espeak-ng, onnxruntime, a stray
    # print) goes to stderr instead, so it can never corrupt the protocol.
    events = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(message: dict[str, Any]) -> None:
        events.write(protocol.encode(message))

    try:
        engine = make_engine(args)
    except EngineError as error:
        print(f"pytest_kokoro.harness: cannot start engine {args.engine}: {error}", file=sys.stderr)
        return 2
    slowdown = float(os.environ.get("PYTEST_KOKORO_INJECT_SLOWDOWN") or 0)
    harness = Harness(InjectedSlowdown(engine, slowdown) if slowdown else engine, emit)
    try:
        serve(harness, sys.stdin.buffer)
    except BrokenPipeError:
        return 0  # the host went away; nothing to report to
    return 0


if __name__ == "__main__":
    sys.exit(main())
