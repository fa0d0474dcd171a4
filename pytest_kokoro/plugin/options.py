"""The plugin's options: one table of rows (``core.options.Option``), the plugin's own and each device kind's, each
row a flag and an ini key; their registration with pytest, and how a value is looked up.

Defaults live in the rows and nowhere else; a value is the command line's, else the ini file's, else the row's
default.
"""

from __future__ import annotations

import argparse
import functools
import itertools
from typing import Any

import pytest

from pytest_kokoro.core.options import (
    Option,
    comma_list,
    cooldown,
    non_negative_float,
    one_of,
    positive_float,
    positive_int,
)
from pytest_kokoro.core.sentences import SPLIT_NAME, SPLIT_STRATEGIES
from pytest_kokoro.core.texts import TextsError, resolve_texts
from pytest_kokoro.devices.base import DeviceKind, DeviceSettings, DeviceSpec
from pytest_kokoro.devices.registry import kinds, parse_device
from pytest_kokoro.gates.baselines import validate_name
from pytest_kokoro.gates.spec import parse_gate_spec
from pytest_kokoro.runner.heat import DEFAULT_FACTOR
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


def _split_strategies(text: str) -> list[str]:
    strategies = comma_list(text)
    unknown = [s for s in strategies if s not in SPLIT_STRATEGIES]
    if unknown:
        raise ValueError(f"unknown split strategy {', '.join(unknown)}: use {', '.join(SPLIT_STRATEGIES)}")
    return list(dict.fromkeys(strategies))


def _fuzz_profile(text: str) -> str:
    try:
        return one_of("ci", "nightly")(text)
    except ValueError:
        raise ValueError(f"unknown fuzz profile {text!r}: use ci or nightly (HYPOTHESIS_PROFILE may name any "
                         "hypothesis profile you registered)") from None


def _engines(text: str) -> list[str]:
    engines = comma_list(text)
    known = sorted({e for kind in kinds().values() if kind.engines for e in kind.engines.names()})
    for engine in engines:
        if engine not in known:
            raise ValueError(f"unknown engine {engine!r}: use {', '.join(known)}")
    if len(set(engines)) != len(engines):
        raise ValueError(f"an engine is named twice in {text!r}")
    return engines


def _hot_factor(text: str) -> float:
    factor = non_negative_float(text)
    if 0 < factor <= 1:
        raise ValueError(f"must be above 1 (a round slower than the session's coolest by that factor ran hot) or 0 "
                         f"(the rule off), got {factor:g}")
    return factor


def _device_help() -> str:
    return "where to run: " + "; ".join(f"{kind.spelling()}: {kind.description}" for kind in kinds().values())


def _engine_help() -> str:
    tables = [f"{kind.name}: {kind.engines.help()}" for kind in kinds().values() if kind.engines is not None]
    return "comma-separated engines, a matrix axis. " + ". ".join(tables)


def plugin_options() -> tuple[Option, ...]:
    """The plugin's own rows (device kinds bring theirs)."""
    return (
        Option("--kokoro-device", parse_device, _device_help(), default="host", metavar="DEVICE"),
        Option("--kokoro-variants", comma_list, "comma-separated variants (default: the device's and engine's, "
               "e.g. host int8 and any --kokoro-model; iphone bf16,8bit,6bit,4bit)", metavar="LIST"),
        Option("--kokoro-voices", comma_list, "comma-separated voices (default: the device's and engine's, e.g. "
               "jf_alpha on host, af_heart on iphone)", metavar="LIST"),
        Option("--kokoro-texts", comma_list, "comma-separated built-in text names (default, short, paragraph) or "
               "files with one text per paragraph", default="default", metavar="LIST"),
        Option("--kokoro-engine", _engines, _engine_help(), metavar="LIST"),
        Option("--kokoro-split", _split_strategies, "comma-separated ways to cut texts into chunks: sentences (the "
               "reference's rule), clauses, adaptive, whole (docs/protocol.md)", default=SPLIT_NAME, metavar="LIST"),
        Option("--kokoro-rounds", positive_int, "timed rounds per case", default=5, metavar="N"),
        Option("--kokoro-order", one_of("interleaved", "grouped"), "the order of rounds: interleaved (the "
               "variants and engines of one voice and text take turns, A B C D, D C B A, ...; the default when a run "
               "compares several) or grouped (all rounds of a case, then the next)", metavar="ORDER"),
        Option("--kokoro-cooldown", cooldown, "before every round, so heat from the last one does not tilt the next: "
               "SECONDS to wait, or nominal[:MAX_SECONDS] to wait until the device reports nominal (thermal state "
               "nominal or fair where it has one, the calibration workload no longer hot), at most MAX_SECONDS "
               "(default 600)", default="0", metavar="SECONDS|nominal[:MAX]"),
        Option("--kokoro-hot-factor", _hot_factor, "a round whose calibration workload took more than this "
               "many times the coolest one of its harness session ran hot: it stays in the results and is left out "
               "of gates and baselines (0 turns this rule off; a serious or critical thermal state always counts)",
               default=DEFAULT_FACTOR, metavar="FACTOR"),
        Option("--kokoro-warmup", bool, "run the warm-up 'Hi.' before each timed round, untimed; --no-kokoro-warmup "
               "times rounds without it", default=True, action="flag"),
        Option("--kokoro-wav", bool, "write a WAV per round next to the results (NN_Kokoro-82M-VARIANT_VOICE.wav)",
               default=False, action="flag"),
        Option("--kokoro-benchmark-table", bool, "also print pytest-benchmark's own table for kokoro cases (its "
               "times are the harness's inference times; its JSON is written either way)", default=False,
               action="flag"),
        Option("--kokoro-results-dir", str, "where results, WAVs and harness logs go", default="results",
               metavar="DIR"),
        Option("--kokoro-report", str, "write one self-contained HTML report of this run's results to PATH at the "
               "end (python -m pytest_kokoro.report does the same for any results files)", metavar="PATH"),
        Option("--kokoro-timeout", positive_float, "seconds to wait for any event from the harness before calling "
               "it hung", default=120.0, metavar="SECONDS"),
        Option("--kokoro-baseline", str, "compare with this baseline (a name saved for this device, or a path); fail "
               "a case only for a significant regression beyond --kokoro-gate", metavar="NAME"),
        Option("--kokoro-save-baseline", validate_name, "store this run as a baseline under NAME (per device "
               "identity)", metavar="NAME"),
        Option("--kokoro-gate", parse_gate_spec, "regression thresholds, e.g. rtf=10%,ttfa=15%,alpha=0.01 (the "
               "defaults)", metavar="SPEC"),
        Option("--kokoro-baselines-dir", str, "where baselines are stored", default="kokoro-baselines",
               metavar="DIR"),
        Option("--kokoro-ab-baseline", str, "A/B gating: a command that starts the baseline harness (e.g. another "
               "checkout's '.venv/bin/python -m pytest_kokoro.harness'); its rounds alternate with this run's and "
               "each case is gated against them. 'same' runs the A/A check: a second harness of this very device "
               "and engine as the baseline arm, and the summary gives the interval of the bias between the arms",
               metavar="COMMAND"),
        Option("--kokoro-ab-first", one_of("baseline", "candidate"), "A/B: which arm runs first in round 0, and so "
               "starts (and cold-loads) its harness first; the arms alternate after that (A B B A ...). Swap it in "
               "half of a set of A/A runs to see whether the arm that starts first is favoured", default="baseline",
               metavar="ARM"),
        Option("--kokoro-quality", one_of("full", "basic"), "audio checks after each round: full (the model-free "
               "checks and the pocketsphinx intelligibility score) or basic (model-free only; docs/quality.md)",
               default="full", metavar="LEVEL"),
        Option("--kokoro-fuzz-profile", _fuzz_profile, "benchmarks/test_fuzz.py: hypothesis profile ci (25 "
               "examples) or nightly (500); fuzzing is off unless this or $HYPOTHESIS_PROFILE is set",
               metavar="PROFILE"),
    )


@functools.cache
def all_options() -> dict[str, Option]:
    """Every row by dest: the plugin's, then each registered kind's."""
    rows = [*plugin_options(), *(row for kind in kinds().values() for row in kind.options)]
    table: dict[str, Option] = {}
    for row in rows:
        if row.dest in table:
            raise ValueError(f"option {row.flag} is declared twice (by the plugin or a device kind)")
        table[row.dest] = row
    return table


def add_device_alias(parser: pytest.Parser, flag: str = "--device") -> None:
    """``flag`` as another spelling of ``--kokoro-device``, for a suite that wants it (this project's conftest.py
    adds ``--device``). The plugin itself never takes ``--device``: many projects define their own."""
    parser.addoption(flag, dest="kokoro_device", type=_option_type(parse_device), default=None, metavar="DEVICE",
                     help="the same as --kokoro-device (added by this suite's conftest.py)")


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("kokoro", "Kokoro-82M text-to-speech benchmarks (pytest-kokoro)")
    for row in all_options().values():
        if row.action == "flag":
            group.addoption(row.flag, dest=row.dest, action="store_true", default=None, help=row.help_text)
            group.addoption(row.flag.replace("--", "--no-", 1), dest=row.dest, action="store_false",
                            help=argparse.SUPPRESS)
            parser.addini(row.dest, row.help + " (true/false)", type="bool", default=None)
        elif row.action == "append":
            group.addoption(row.flag, dest=row.dest, action="append", type=_option_type(row.parse), default=None,
                            metavar=row.metavar or "VALUE", help=row.help_text)
            parser.addini(row.dest, row.help + " (one a line)", type="linelist", default=[])
        else:
            group.addoption(row.flag, dest=row.dest, type=_option_type(row.parse), default=None,
                            metavar=row.metavar or "VALUE", help=row.help_text)
            parser.addini(row.dest, row.help)


def option(config: pytest.Config, dest: str) -> Any:
    """A kokoro option: the command line wins, then the ini key, then the row's default (parsed like the text)."""
    row = all_options()[dest]
    value = config.getoption(dest)
    if value is not None:
        return value
    raw = config.getini(dest)
    try:
        if row.action == "append":
            return [row.parse(line) for line in raw] if raw else []
        if raw not in (None, ""):
            return row.parse(raw) if isinstance(raw, str) and row.action != "flag" else raw
    except ValueError as error:
        raise pytest.UsageError(f"ini {dest} = {raw!r}: {error}") from None
    if isinstance(row.default, str) and row.action == "store":
        return row.parse(row.default)
    return row.default


def device_settings(config: pytest.Config, kind: DeviceKind) -> DeviceSettings:
    """What a device of ``kind`` gets: the results folder, the timeout, and its own options' values."""
    from pathlib import Path

    return DeviceSettings(Path(option(config, "kokoro_results_dir")), timeout=option(config, "kokoro_timeout"),
                          options={row.dest: option(config, row.dest) for row in kind.options})


def engines(config: pytest.Config, kind: DeviceKind) -> list[str | None]:
    """The run's engines, checked against the device; [None] for a device with one engine of its own (iphone)."""
    given = option(config, "kokoro_engine")
    if kind.engines is None:
        if given:
            with_engines = [k.name for k in kinds().values() if k.engines is not None]
            raise pytest.UsageError(f"--kokoro-engine is for {' and '.join(with_engines)}; {kind.name} runs its own "
                                    "engine")
        return [None]
    names = kind.engines.names()
    for engine in given or ():
        if engine not in names:
            raise pytest.UsageError(f"--kokoro-engine {engine}: {kind.name} runs {' or '.join(names)}")
    return list(given) if given else [kind.default_engine()]


def build_cases(config: pytest.Config, kind: DeviceKind, settings: DeviceSettings,
                engines: list[str | None] = (None,)) -> list[Case]:
    """The matrix: engine × variant × voice × text × split; each engine with its own default variants and voices
    (the host's mlx engine has the phone's bf16..4bit, onnxruntime int8) unless the options name them."""
    try:
        texts = resolve_texts(option(config, "kokoro_texts"))
    except TextsError as error:
        raise pytest.UsageError(str(error)) from None
    cases = []
    for engine in engines:
        default_variants, default_voices = kind.defaults(engine, settings)
        variants = option(config, "kokoro_variants") or default_variants
        voices = option(config, "kokoro_voices") or default_voices
        cases += [Case(variant, voice, text_id, text, engine=engine if len(engines) > 1 else None, split=split)
                  for variant, voice, (text_id, text), split in itertools.product(
                      variants, voices, texts.items(), option(config, "kokoro_split"))]
    return cases


def timeout(config: pytest.Config, kind: DeviceKind, engines: list[str | None]) -> float:
    """--kokoro-timeout as given; else, off a Mac with an engine that runs on the CPU there (the host's mlx), that
    engine's own longer wait (core/engines.py: cpu_timeout); else the row's default."""
    import sys

    given = config.getoption("kokoro_timeout") is not None or config.getini("kokoro_timeout") not in (None, "", [])
    if not given and sys.platform != "darwin" and kind.engines is not None:
        waits = [kind.engines.get(e).cpu_timeout for e in engines if e is not None]
        if any(waits):
            return max(w for w in waits if w)
    return option(config, "kokoro_timeout")


def device_spec(config: pytest.Config) -> DeviceSpec:
    return option(config, "kokoro_device")
