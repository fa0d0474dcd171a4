"""Engine tables: which engines a harness runs, what each loads by default, and how to tell it is installed.

One table per harness, read by both sides: the host harness builds its engine from ``HOST_ENGINES`` (its
``--engine`` choices and the class to construct), and the host device kind reads the same rows for
``--kokoro-engine``, the defaults and ``--help``. Adding an engine to the host harness is one row here plus its
module under ``pytest_kokoro/harness/``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass


def module_installed(name: str) -> bool:
    """Whether ``name`` can be imported here: looked up, not imported (importing may be slow or have effects)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: a module blocked with sys.modules[name] = None
        return False


@dataclass(frozen=True)
class Engine:
    name: str
    description: str
    variants: tuple[str, ...]  # the variants a run measures when --kokoro-variants is not given
    voices: tuple[str, ...]  # likewise --kokoro-voices
    implementation: str = ""  # "module:Class" the harness constructs (host harness only)
    requires: tuple[str, ...] = ()  # modules that must be importable for the engine to be chosen by default
    simulated: bool = False  # a SIMULATED engine: tests the harness, never a measurement

    def installed(self) -> bool:
        """Whether every module in ``requires`` can be imported here (looked up, not imported)."""
        return all(module_installed(module) for module in self.requires)


@dataclass(frozen=True)
class EngineTable:
    harness: str
    engines: tuple[Engine, ...]

    def names(self) -> tuple[str, ...]:
        return tuple(engine.name for engine in self.engines)

    def get(self, name: str) -> Engine:
        for engine in self.engines:
            if engine.name == name:
                return engine
        raise KeyError(f"{self.harness} has no engine {name!r}: use {', '.join(self.names())}")

    def default(self) -> Engine:
        """The first engine whose modules are installed (the last row when none is)."""
        return next((engine for engine in self.engines if engine.installed()), self.engines[-1])

    def help(self) -> str:
        return "; ".join(f"{e.name}{' (SIMULATED)' if e.simulated else ''}: {e.description}" for e in self.engines)


HOST_ENGINES = EngineTable("the host harness (python -m pytest_kokoro.harness)", (
    Engine("onnxruntime", "the real Kokoro-82M int8 ONNX model on the onnxruntime Python package (default)",
           ("int8",), ("jf_alpha",), "pytest_kokoro.harness.onnx_engine:OnnxKokoroEngine"),
    Engine("sherpa-onnx", "the same model through sherpa-onnx's C library, the build the Swift harness links",
           ("int8",), ("jf_alpha",), "pytest_kokoro.harness.sherpa_engine:SherpaKokoroEngine",
           requires=("sherpa_onnx",)),
))

SWIFT_ENGINES = EngineTable("the Swift harness (ios-harness CLI)", (
    Engine("sherpa-onnx", "the real Kokoro-82M int8 through sherpa-onnx's C API (default where sherpa-onnx-core is "
                          "installed)", ("int8",), ("jf_alpha",), requires=("sherpa_onnx",)),
    Engine("scripted", "deterministic audio, no model: tests the Swift code path, never a measurement",
           ("bf16", "8bit", "6bit", "4bit"), ("af_heart",), simulated=True),
))
