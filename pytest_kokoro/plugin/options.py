"""The plugin's options: one table of flags (each also an ini key), their parsers, and how a value is looked up."""

from __future__ import annotations

import argparse
import functools
import itertools
from typing import Any

import pytest

from pytest_kokoro.core.sentences import SPLIT_NAME, SPLIT_STRATEGIES
from pytest_kokoro.core.texts import TextsError, resolve_texts
from pytest_kokoro.devices.base import DEFAULT_VARIANTS, DEFAULT_VOICES, DeviceSpec, parse_device
from pytest_kokoro.gates.baselines import validate_name
from pytest_kokoro.gates.spec import parse_gate_spec
from pytest_kokoro.runner.records import Case


class OptionValueError(argparse.ArgumentTypeError, ValueError):
    """A bad option value; argparse shows an ArgumentTypeError's own message (a plain ValueError's it replaces)."""


def _option_type(parse):
    @functools.wraps(parse)
    def checked(text: str):
        try:
            return parse(text)
        except ValueError as error:
            raise OptionValueError(str(error)) from None

    return checked


def _comma_list(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ValueError("expected a comma-separated list, got nothing")
    return items


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(f"must be positive, got {value}")
    return value


def _model_assignment(text: str) -> tuple[str, str]:
    variant, sep, path = text.partition("=")
    if not sep or not variant.strip() or not path.strip():
        raise ValueError(f"expected VARIANT=PATH, got {text!r}")
    return variant.strip(), path.strip()


def _split_strategies(text: str) -> list[str]:
    strategies = _comma_list(text)
    unknown = [s for s in strategies if s not in SPLIT_STRATEGIES]
    if unknown:
        raise ValueError(f"unknown split strategy {', '.join(unknown)}: use {', '.join(SPLIT_STRATEGIES)}")
    return list(dict.fromkeys(strategies))


def _launch_mode(text: str) -> str:
    if text not in ("auto", "manual"):
        raise ValueError(f"expected auto or manual, got {text!r}")
    return text


def _quality_level(text: str) -> str:
    if text not in ("full", "basic"):
        raise ValueError(f"expected full or basic, got {text!r}")
    return text


def _fuzz_profile(text: str) -> str:
    if text not in ("ci", "nightly"):
        raise ValueError(f"unknown fuzz profile {text!r}: use ci or nightly (HYPOTHESIS_PROFILE may name any "
                         "hypothesis profile you registered)")
    return text


ENGINES = {"host": ("onnxruntime", "sherpa-onnx"), "swift": ("sherpa-onnx", "scripted")}
# Defaults of the swift device when its engine is sherpa-onnx: the host's model and voices.
SHERPA_VARIANTS, SHERPA_VOICES = ("int8",), ("jf_alpha",)


def _engines(text: str) -> list[str]:
    engines = _comma_list(text)
    known = sorted({e for names in ENGINES.values() for e in names})
    for engine in engines:
        if engine not in known:
            raise ValueError(f"unknown engine {engine!r}: use {', '.join(known)}")
    if len(set(engines)) != len(engines):
        raise ValueError(f"an engine is named twice in {text!r}")
    return engines


# flag -> (parser, help). Every option is also an ini key: the flag without "--", dashes as underscores.
OPTIONS: dict[str, tuple[Any, str]] = {
    "--kokoro-device": (parse_device, "where to run: host (default), swift, iphone or iphone:UDID[,UDID...]"),
    "--kokoro-variants": (_comma_list, "comma-separated variants (host default: int8 and any --kokoro-model; "
                                       "swift/iphone default: bf16,8bit,6bit,4bit)"),
    "--kokoro-voices": (_comma_list, "comma-separated voices (host default: jf_alpha; swift/iphone: af_heart)"),
    "--kokoro-texts": (_comma_list, "comma-separated built-in text names (default, short, paragraph) or files "
                                    "with one text per paragraph (default: default)"),
    "--kokoro-engine": (_engines, "comma-separated engines, a matrix axis: host onnxruntime (default) and "
                                  "sherpa-onnx; swift sherpa-onnx (default where sherpa-onnx-core is installed) and "
                                  "scripted (SIMULATED, for tests)"),
    "--kokoro-split": (_split_strategies, "comma-separated ways to cut texts into chunks: sentences (the reference's "
                                          "rule, default), clauses, adaptive, whole (docs/protocol.md)"),
    "--kokoro-rounds": (_positive_int, "timed rounds per case (default: 5)"),
    "--kokoro-results-dir": (str, "where results, WAVs and harness logs go (default: results)"),
    "--kokoro-report": (str, "write one self-contained HTML report of this run's results to PATH at the end "
                             "(python -m pytest_kokoro.report does the same for any results files)"),
    "--kokoro-voice-pack": (str, "a voice pack file with more voices, e.g. the English voices-v1.0.bin"),
    "--kokoro-timeout": (_positive_float, "seconds to wait for any event from the harness before calling it hung "
                                          "(default: 120)"),
    "--kokoro-baseline": (str, "compare with this baseline (a name saved for this device, or a path); fail a case "
                               "only for a significant regression beyond --kokoro-gate"),
    "--kokoro-save-baseline": (validate_name, "store this run as a baseline under NAME (per device identity)"),
    "--kokoro-gate": (parse_gate_spec, "regression thresholds, e.g. rtf=10%%,ttfa=15%%,alpha=0.01 (the defaults)"),
    "--kokoro-baselines-dir": (str, "where baselines are stored (default: kokoro-baselines)"),
    "--kokoro-ab-baseline": (str, "A/B gating: a command that starts the baseline harness (e.g. another checkout's "
                                  "'.venv/bin/python -m pytest_kokoro.harness'); its rounds alternate with this "
                                  "run's and each case is gated against them"),
    "--kokoro-app": (str, "iphone: the harness app (.ipa or .app) to install when it is missing or outdated"),
    "--kokoro-launch": (_launch_mode, "iphone: auto (launch the app through DVT, default) or manual (use the app "
                                      "already running, started from Xcode)"),
    "--kokoro-port": (_positive_int, "iphone: the TCP port the app serves the protocol on (default: 7341)"),
    "--kokoro-quality": (_quality_level, "audio checks after each round: full (default: the model-free checks and "
                                         "the pocketsphinx intelligibility score) or basic (model-free only; "
                                         "docs/quality.md)"),
    "--kokoro-fuzz-profile": (_fuzz_profile, "benchmarks/test_fuzz.py: hypothesis profile ci (25 examples) or "
                                             "nightly (500); fuzzing is off unless this or $HYPOTHESIS_PROFILE is set"),
}
DEFAULTS = {
    "kokoro_baselines_dir": "kokoro-baselines",
    "kokoro_launch": "auto",
    "kokoro_port": 7341,
    "kokoro_quality": "full",
    "kokoro_rounds": 5,
    "kokoro_results_dir": "results",
    "kokoro_timeout": 120.0,
    "kokoro_warmup": True,
}


def add_device_alias(parser: pytest.Parser, flag: str = "--device") -> None:
    """``flag`` as another spelling of ``--kokoro-device``, for a suite that wants it (this project's conftest.py
    adds ``--device``). The plugin itself never takes ``--device``: many projects define their own."""
    parser.addoption(flag, dest="kokoro_device", type=_option_type(parse_device), default=None,
                     help="the same as --kokoro-device (added by this suite's conftest.py)")


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("kokoro", "Kokoro-82M text-to-speech benchmarks (pytest-kokoro)")
    for flag, (parse, text) in OPTIONS.items():
        dest = flag.lstrip("-").replace("-", "_")
        group.addoption(flag, dest=dest, type=_option_type(parse), default=None, help=text)
        parser.addini(dest, text.replace("%%", "%"))
    group.addoption("--kokoro-warmup", dest="kokoro_warmup", action="store_true", default=None,
                    help="run the warm-up 'Hi.' before each timed round, untimed (default)")
    group.addoption("--no-kokoro-warmup", dest="kokoro_warmup", action="store_false",
                    help="time rounds without a warm-up")
    parser.addini("kokoro_warmup", "warm up before each timed round (true/false)", type="bool", default=None)
    group.addoption("--kokoro-wav", dest="kokoro_wav", action="store_true", default=None,
                    help="write a WAV per round next to the results (NN_Kokoro-82M-VARIANT_VOICE.wav)")
    parser.addini("kokoro_wav", "write WAVs (true/false)", type="bool", default=None)
    group.addoption("--kokoro-model", dest="kokoro_model", action="append", type=_option_type(_model_assignment), default=None,
                    metavar="VARIANT=PATH", help="a model file you have for a variant (host: fp32, fp16 ONNX exports)")
    parser.addini("kokoro_model", "VARIANT=PATH lines", type="linelist", default=[])


def option(config: pytest.Config, dest: str) -> Any:
    """A kokoro option: the command line wins, then the ini key, then the default."""
    value = config.getoption(dest)
    if value is not None:
        return value
    raw = config.getini(dest)
    if raw in (None, "", []):
        return DEFAULTS.get(dest)
    if isinstance(raw, str):
        flag = "--" + dest.replace("_", "-")
        try:
            return OPTIONS[flag][0](raw)
        except ValueError as error:
            raise pytest.UsageError(f"ini {dest} = {raw!r}: {error}") from None
    return raw


def models(config: pytest.Config) -> dict[str, str]:
    given = config.getoption("kokoro_model")
    if given is None:
        try:
            given = [_model_assignment(line) for line in config.getini("kokoro_model")]
        except ValueError as error:
            raise pytest.UsageError(f"ini kokoro_model: {error}") from None
    return dict(given)


def sherpa_installed() -> bool:
    """Whether sherpa-onnx's C library (PyPI sherpa-onnx-core) is installed: looked up, not imported."""
    import importlib.util

    return importlib.util.find_spec("sherpa_onnx") is not None


def engines(config: pytest.Config, device: DeviceSpec) -> list[str | None]:
    """The run's engines, checked against the device; [None] for a device with one engine of its own (iphone).
    The swift device's default is the real model through sherpa-onnx where its library is installed, else the
    SIMULATED scripted engine (as before sherpa-onnx existed here)."""
    given = option(config, "kokoro_engine")
    if device.kind not in ENGINES:
        if given:
            raise pytest.UsageError(f"--kokoro-engine is for host and swift; {device.kind} runs its own engine (MLX)")
        return [None]
    for engine in given or ():
        if engine not in ENGINES[device.kind]:
            raise pytest.UsageError(f"--kokoro-engine {engine}: {device.kind} runs {' or '.join(ENGINES[device.kind])}")
    if given:
        return given
    if device.kind == "swift":
        return ["sherpa-onnx" if sherpa_installed() else "scripted"]
    return ["onnxruntime"]


def build_cases(config: pytest.Config, device: DeviceSpec, models: dict[str, str],
                engines: list[str | None] = (None,)) -> list[Case]:
    sherpa_swift = device.kind == "swift" and "sherpa-onnx" in engines
    variants = option(config, "kokoro_variants") or [
        *(SHERPA_VARIANTS if sherpa_swift else DEFAULT_VARIANTS[device.kind]),
        *(m for m in models if device.kind == "host" and m != "int8")]
    voices = option(config, "kokoro_voices") or list(SHERPA_VOICES if sherpa_swift else DEFAULT_VOICES[device.kind])
    try:
        texts = resolve_texts(option(config, "kokoro_texts") or ["default"])
    except TextsError as error:
        raise pytest.UsageError(str(error)) from None
    axis = engines if len(engines) > 1 else [None]
    splits = option(config, "kokoro_split") or [SPLIT_NAME]
    return [Case(variant, voice, text_id, text, engine=engine, split=split)
            for engine, variant, voice, (text_id, text), split in itertools.product(axis, variants, voices,
                                                                                   texts.items(), splits)]


