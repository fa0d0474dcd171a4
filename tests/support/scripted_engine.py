"""A SIMULATED engine for testing the harness around it: deterministic audio, no model. Never a measurement."""

from __future__ import annotations

import numpy as np

from pytest_kokoro.harness.onnx_engine import EngineError, LoadedVariant


class ScriptedEngine:
    name = "scripted"
    simulated = True
    version = "scripted 0 (simulated)"

    def __init__(self, fail_on: str | None = None, silent: bool = False):
        self.loaded_variants: dict[str, LoadedVariant] = {}
        self.calls: list[str] = []
        self.fail_on = fail_on
        self.silent = silent

    def variants(self):
        return ["int8"]

    def voices(self):
        return ["jf_alpha"]

    def is_loaded(self, variant):
        return variant in self.loaded_variants

    def load(self, variant):
        if variant != "int8":
            raise EngineError("unknown_variant", f"variant {variant!r} is not known")
        self.calls.append(f"load {variant}")
        self.loaded_variants[variant] = LoadedVariant(variant, "scripted", "Scripted (simulated)", None)
        return self.loaded_variants[variant]

    def loaded(self, variant):
        return self.loaded_variants[variant]

    def unload(self, variant):
        self.loaded_variants.pop(variant, None)

    def voice(self, name):
        if name != "jf_alpha":
            raise EngineError("unknown_voice", f"voice {name!r} is not available")
        self.calls.append(f"voice {name}")
        return np.zeros((510, 1, 256), np.float32)

    def synthesize(self, variant, text, voice, voice_name, speed):
        self.calls.append(f"synthesize {text}")
        if self.fail_on and self.fail_on in text:
            raise RuntimeError("simulated engine failure")
        if not any(ch.isalnum() for ch in text):
            return np.zeros(0, np.float32)
        n = 1600 * sum(ch.isalnum() for ch in text)
        amplitude = 0.0 if self.silent else 0.5
        return (amplitude * np.sin(np.arange(n) / 10.0)).astype(np.float32)
