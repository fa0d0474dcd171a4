"""The plugin's options: one table of flags (each also an ini key), their parsers, and how a value is looked up."""

from __future__ import annotations

import argparse
import functools
import itertools
from typing import Any

import pytest

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


def _launch_mode(text: str) -> str:
    if text not in ("auto", "manual"):
        raise ValueError(f"expected auto or manual, got {text!r}")
    return text


def _fuzz_profile(text: str) -> str:
    if text not in ("ci", "nightly"):
        raise ValueError(f"unknown fuzz profile {text!r}: use ci or nightly (HYPOTHESIS_PROFILE may name any "
                         "hypothesis profile you registered)")
    return text


# flag -> (parser, help). Every option is also an ini key: the flag without "--", dashes as underscores.
OPTIONS: dict[str, tuple[Any, str]] = {
    "--kokoro-device": (parse_device, "where to run: host (default), swift, iphone or iphone:UDID[,UDID...]"),
    "--kokoro-variants": (_comma_list, "comma-separated variants (host default: int8 and any --kokoro-model; "
                                       "swift/iphone default: bf16,8bit,6bit,4bit)"),
    "--kokoro-voices": (_comma_list, "comma-separated voices (host default: jf_alpha; swift/iphone: af_heart)"),
    "--kokoro-texts": (_comma_list, "comma-separated built-in text names (default, short, paragraph) or files "
                                    "with one text per paragraph (default: default)"),
    "--kokoro-rounds": (_positive_int, "timed rounds per case (default: 5)"),
    "--kokoro-results-dir": (str, "where results, WAVs and harness logs go (default: results)"),
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
    "--kokoro-fuzz-profile": (_fuzz_profile, "benchmarks/test_fuzz.py: hypothesis profile ci (25 examples) or "
                                             "nightly (500); fuzzing is off unless this or $HYPOTHESIS_PROFILE is set"),
}
DEFAULTS = {
    "kokoro_baselines_dir": "kokoro-baselines",
    "kokoro_launch": "auto",
    "kokoro_port": 7341,
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


def build_cases(config: pytest.Config, device: DeviceSpec, models: dict[str, str]) -> list[Case]:
    variants = option(config, "kokoro_variants") or [*DEFAULT_VARIANTS[device.kind],
                                                     *(m for m in models if device.kind == "host" and m != "int8")]
    voices = option(config, "kokoro_voices") or list(DEFAULT_VOICES[device.kind])
    try:
        texts = resolve_texts(option(config, "kokoro_texts") or ["default"])
    except TextsError as error:
        raise pytest.UsageError(str(error)) from None
    return [Case(variant, voice, text_id, text)
            for variant, voice, (text_id, text) in itertools.product(variants, voices, texts.items())]


