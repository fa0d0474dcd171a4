"""The pytest plugin: options, the variant × voice × text matrix, fixtures, pytest-benchmark wiring, the summary.

Only wiring lives here; the logic is in plain modules (session, devices, client, metrics, results, report).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import statistics
from pathlib import Path
from typing import Any, NoReturn

import pytest

from .baselines import BaselineStore, validate_name
from .devices import (DEFAULT_VARIANTS, DEFAULT_VOICES, DeviceSpec, command_device, host_device, parse_device,
                      swift_device)
from .gatekeeper import GateKeeper, GateSetupError
from .gates import GateSpec, check_budget, metric_values, parse_gate_spec
from .results import ResultsWriter, benchmark_stats, device_facts, results_file_name
from .session import Case, CaseFailed, CaseRecord, CaseUnavailable, KokoroSession, Settings
from .texts import TextsError, resolve_texts
from .workers import WORKER_OUTPUT_KEY, ResultsMerger, WorkerSetupError, results_location, worker_device, worker_payload

SESSION_KEY = pytest.StashKey[KokoroSession]()
CASES_KEY = pytest.StashKey[list[Case]]()
GATES_KEY = pytest.StashKey[GateKeeper]()
AB_KEY = pytest.StashKey[KokoroSession]()


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
    "--device": (parse_device, "where to run: host (default), swift, iphone or iphone:UDID[,UDID...]"),
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


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kokoro", "Kokoro-82M text-to-speech benchmarks (pytest-kokoro)")
    for flag, (parse, text) in OPTIONS.items():
        dest = flag.lstrip("-").replace("-", "_")
        dest = "kokoro_device" if dest == "device" else dest
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


def fail(message: str) -> NoReturn:
    """Fail the test with ``message`` alone: no traceback, and not the chain of exceptions being handled (the
    message already says what happened; pytest would otherwise print it once per exception in the chain)."""
    raise pytest.fail.Exception(message, pytrace=False) from None


def option(config: pytest.Config, dest: str) -> Any:
    """A kokoro option: the command line wins, then the ini key, then the default."""
    value = config.getoption(dest)
    if value is not None:
        return value
    raw = config.getini(dest)
    if raw in (None, "", []):
        return DEFAULTS.get(dest)
    if isinstance(raw, str):
        flag = "--device" if dest == "kokoro_device" else "--" + dest.replace("_", "-")
        try:
            return OPTIONS[flag][0](raw)
        except ValueError as error:
            raise pytest.UsageError(f"ini {dest} = {raw!r}: {error}") from None
    return raw


def _models(config: pytest.Config) -> dict[str, str]:
    given = config.getoption("kokoro_model")
    if given is None:
        try:
            given = [_model_assignment(line) for line in config.getini("kokoro_model")]
        except ValueError as error:
            raise pytest.UsageError(f"ini kokoro_model: {error}") from None
    return dict(given)


def _build_cases(config: pytest.Config, device: DeviceSpec, models: dict[str, str]) -> list[Case]:
    variants = option(config, "kokoro_variants") or [*DEFAULT_VARIANTS[device.kind],
                                                     *(m for m in models if device.kind == "host" and m != "int8")]
    voices = option(config, "kokoro_voices") or list(DEFAULT_VOICES[device.kind])
    try:
        texts = resolve_texts(option(config, "kokoro_texts") or ["default"])
    except TextsError as error:
        raise pytest.UsageError(str(error)) from None
    return [Case(variant, voice, text_id, text)
            for variant, voice, (text_id, text) in itertools.product(variants, voices, texts.items())]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kokoro_fuzz: fuzzes the harness; runs last, and only when a fuzz profile is "
                                       "chosen (--kokoro-fuzz-profile or HYPOTHESIS_PROFILE)")
    config.addinivalue_line("markers", "kokoro_budget(rtf=None, ttfa=None, inference=None): absolute caps on a "
                                       "case's median real-time factor, time to first audio and inference time (s)")
    device = option(config, "kokoro_device") or parse_device("host")
    try:
        device = worker_device(config, device)  # pytest-xdist: worker i drives the i-th phone
    except WorkerSetupError as error:
        raise pytest.UsageError(str(error)) from None
    models = _models(config)
    voice_pack = option(config, "kokoro_voice_pack")
    results_dir = Path(option(config, "kokoro_results_dir"))
    config.stash[CASES_KEY] = _build_cases(config, device, models)
    warmup = option(config, "kokoro_warmup")
    settings = Settings(device_label=device.label, rounds=option(config, "kokoro_rounds"),
                        warmup=True if warmup is None else bool(warmup), timeout=option(config, "kokoro_timeout"))

    def make_device():
        if device.kind == "host":
            return host_device(results_dir, models, voice_pack)
        if device.kind == "swift":
            return swift_device(results_dir)
        from .iphone import iphone_device  # pymobiledevice3 is only needed for phones

        return iphone_device(config, device, results_dir)

    writer = ResultsWriter(*results_location(config, results_dir, results_file_name()),
                           write_wavs=bool(option(config, "kokoro_wav")))
    ab_command = option(config, "kokoro_ab_baseline")
    config.stash[SESSION_KEY] = KokoroSession(settings, make_device, writer, arm="candidate" if ab_command else None)
    if ab_command:
        ab_settings = Settings(**{**settings.__dict__, "device_label": f"{device.label} A/B baseline"})
        config.stash[AB_KEY] = KokoroSession(ab_settings, lambda: command_device(ab_command, results_dir,
                                                                                 ab_settings.device_label),
                                             writer, arm="baseline")
    config.stash[GATES_KEY] = GateKeeper(BaselineStore(Path(option(config, "kokoro_baselines_dir"))),
                                         option(config, "kokoro_gate") or GateSpec(),
                                         option(config, "kokoro_baseline"), option(config, "kokoro_save_baseline"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Fuzz tests go last, so the benchmark cases measure the cold load and a clean harness; they are opt-in, so
    the default benchmark run stays a benchmark."""
    fuzz = [item for item in items if item.get_closest_marker("kokoro_fuzz")]
    if not fuzz:
        return
    items[:] = [item for item in items if item not in fuzz] + fuzz
    if option(config, "kokoro_fuzz_profile") is None and not os.environ.get("HYPOTHESIS_PROFILE"):
        skip = pytest.mark.skip(reason="fuzzing is opt-in: add --kokoro-fuzz-profile=ci (25 examples) or "
                                       "--kokoro-fuzz-profile=nightly (500)")
        for item in fuzz:
            item.add_marker(skip)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kokoro_case" in metafunc.fixturenames:
        cases = metafunc.config.stash[CASES_KEY]
        metafunc.parametrize("kokoro_case", cases, ids=[case.id for case in cases])


@pytest.fixture(scope="session")
def kokoro_session(request: pytest.FixtureRequest):
    """The run's harness session: the device's harness starts on first use and stops at the end of the run."""
    session = request.config.stash[SESSION_KEY]
    yield session
    session.close()
    ab_baseline = request.config.stash.get(AB_KEY, None)
    if ab_baseline is not None:
        ab_baseline.close()


class ReplayClock:
    """A pytest-benchmark timer that replays harness-measured durations: 0.0 when a round starts, the duration
    when it ends. So pytest-benchmark's stats are the device's numbers, never the host's wall time."""

    __name__ = "harness_clock"

    def __init__(self, durations: list[float]):
        self._ticks = iter(itertools.chain.from_iterable((0.0, d) for d in durations))

    def __call__(self) -> float:
        return next(self._ticks)


@pytest.fixture
def kokoro_benchmark(request: pytest.FixtureRequest, kokoro_session: KokoroSession, benchmark):
    """Run a case's timed rounds on the device, check every result, gate it against the baseline and budgets,
    and hand the timings to pytest-benchmark."""
    keeper = request.config.stash[GATES_KEY]
    budget = request.node.get_closest_marker("kokoro_budget")

    ab_baseline = request.config.stash.get(AB_KEY, None)

    def one_round(session: KokoroSession, case: Case, round_index: int) -> tuple[dict[str, Any], list[str]]:
        try:
            _, broken = session.run_round(case, round_index, request.node.nodeid)
        except CaseUnavailable as error:
            pytest.skip(str(error))
        except CaseFailed as error:
            fail(f"{session.arm or ''} {error}".strip())
        prefix = f"{session.arm} " if session.arm else ""
        return session.records[request.node.nodeid].results[-1], [f"{prefix}round {round_index}: {p}" for p in broken]

    def measure(case: Case, first_round: int) -> tuple[list[dict[str, Any]], list[str], list[dict[str, Any]]]:
        """This run's rounds, the rules they broke, and (A/B) the baseline arm's rounds, alternating A B B A ..."""
        results, problems, baseline_results = [], [], []
        for round_index in range(first_round, first_round + kokoro_session.settings.rounds):
            arms = [kokoro_session] if ab_baseline is None else (
                [ab_baseline, kokoro_session] if round_index % 2 == 0 else [kokoro_session, ab_baseline])
            for session in arms:
                result, broken = one_round(session, case, round_index)
                (baseline_results if session is ab_baseline else results).append(result)
                problems += broken
        return results, problems, baseline_results

    def judge(case: Case, results: list[dict[str, Any]], baseline_results: list[dict[str, Any]]):
        if ab_baseline is not None:
            return keeper.judge_interleaved(case.id, baseline_results, results)
        return keeper.judge(case.id, results)

    def run(case: Case) -> CaseRecord:
        try:
            return judged(case)
        except BaseException:
            if benchmark.stats is None:
                _mark_unmeasured(benchmark)
            raise

    def judged(case: Case) -> CaseRecord:
        results, problems, baseline_results = measure(case, 0)
        record = kokoro_session.records[request.node.nodeid]
        failures = [f"{case.id} broke the result rules:", *problems] if problems else []
        if (keeper.gating or ab_baseline is not None) and not problems:
            try:
                regressions = [j for j in judge(case, results, baseline_results) if j.is_regression]
                if regressions:
                    # Measured again once before failing: a regression must show up twice to count.
                    results, problems, baseline_results = measure(case, len(record.results))
                    regressions = [j for j in judge(case, results, baseline_results) if j.is_regression]
                    failures += problems
            except GateSetupError as error:
                fail(str(error))
            failures += [f"{case.id}: {j.message} (confirmed on a second measurement)" for j in regressions]
        if budget is not None:
            try:
                failures += [f"{case.id}: {m}" for m in check_budget(metric_values(results), budget.kwargs)]
            except ValueError as error:
                raise pytest.UsageError(f"{request.node.nodeid}: kokoro_budget: {error}") from None
        _feed_benchmark(benchmark, record)
        if failures:
            fail("\n".join(failures))
        return record

    return run


class _Unmeasured(Exception):
    pass


def _mark_unmeasured(benchmark) -> None:
    """Use the fixture once with a failing target, so pytest-benchmark records an errored benchmark (left out of its
    JSON and tables) instead of warning that a failed or skipped case never used it."""

    def unmeasured() -> None:
        raise _Unmeasured

    try:
        benchmark.pedantic(unmeasured, rounds=1, iterations=1)
    except _Unmeasured:
        pass


def _feed_benchmark(benchmark, record: CaseRecord) -> None:
    durations = record.values("inference_time")
    benchmark.extra_info.update({
        "case": record.case.id, "variant": record.case.variant, "voice": record.case.voice,
        "text_id": record.case.text_id, "unit": "seconds of harness-measured inference_time",
        "median_rtf": statistics.median(record.values("real_time_factor")),
        "median_ttfa": statistics.median(record.values("time_to_first_audio")),
    })
    # Used even when pytest-benchmark is disabled (pytest-xdist): then it calls the target once and records nothing.
    benchmark._timer = ReplayClock(durations)  # pytest-benchmark reads its timer from here; see ReplayClock
    benchmark.pedantic(lambda: None, rounds=len(durations), iterations=1)


def pytest_benchmark_update_json(config: pytest.Config, benchmarks, output_json: dict[str, Any]) -> None:
    """RTF and TTFA as benchmark entries of their own, beside each case's inference-time entry."""
    records = {r.nodeid: r for r in config.stash[SESSION_KEY].records.values()}
    extra = []
    for entry in output_json.get("benchmarks", []):
        record = records.get(entry["fullname"])
        if record is None:
            continue
        for metric, key in (("rtf", "real_time_factor"), ("ttfa", "time_to_first_audio")):
            extra.append({**entry, "group": metric, "name": f"{entry['name']}::{metric}",
                          "fullname": f"{entry['fullname']}::{metric}",
                          "stats": benchmark_stats(record.values(key), include_data="data" in entry["stats"]),
                          "extra_info": {**entry["extra_info"], "metric": key}})
    output_json.setdefault("benchmarks", []).extend(extra)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    session = config.stash[SESSION_KEY]
    machine_info["kokoro_device"] = device_facts(session.settings.device_label, session.hello)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    from .report import summary_lines

    _workers_summary(terminalreporter, config)
    session = config.stash.get(SESSION_KEY, None)
    if session is None or not session.records:
        return
    terminalreporter.section("kokoro")
    for line in summary_lines(session.records.values(), session.settings.device_label,
                              bool(session.hello.get("simulated"))):
        terminalreporter.write_line(line)
    ab_baseline = config.stash.get(AB_KEY, None)
    if ab_baseline is not None and ab_baseline.records:
        for line in summary_lines(ab_baseline.records.values(), ab_baseline.settings.device_label,
                                  bool(ab_baseline.hello.get("simulated")))[:1] + summary_lines(
                ab_baseline.records.values(), ab_baseline.settings.device_label)[2:]:
            terminalreporter.write_line(line)
    terminalreporter.write_line(f"results: {session.writer.path}")
    keeper = config.stash[GATES_KEY]
    for case_id, judgements in keeper.judgements.items():
        for judgement in judgements:
            terminalreporter.write_line(f"gate {case_id}: {judgement.message}")
    for path in keeper.saved:
        terminalreporter.write_line(f"baseline saved: {path}")
    for fault in session.faults:
        terminalreporter.write_line(f"harness fault: {fault}")


# -- pytest-xdist: one worker per phone, one results file (see workers.py) --------------------------------------------
MERGER_KEY = pytest.StashKey[ResultsMerger]()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    kokoro = config.stash.get(SESSION_KEY, None)
    keeper = config.stash.get(GATES_KEY, None)
    if kokoro is not None and keeper is not None and keeper.save_as:
        keeper.save([(r.case.id, r.results) for r in kokoro.records.values()])
    if kokoro is not None and hasattr(config, "workeroutput"):
        from .iphone import run_state

        config.workeroutput[WORKER_OUTPUT_KEY] = worker_payload(kokoro, run_state(config)[1])
    merger = config.stash.get(MERGER_KEY, None)
    if merger is not None and kokoro is not None:
        written = merger.write(kokoro.writer.path)
        if written:
            config.stash[MERGED_KEY] = written


MERGED_KEY = pytest.StashKey[tuple]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    payload = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    if payload is not None:
        config = node.config
        if MERGER_KEY not in config.stash:
            config.stash[MERGER_KEY] = ResultsMerger()
        config.stash[MERGER_KEY].add(node.workerinput["workerid"], payload)


def _workers_summary(terminalreporter, config: pytest.Config) -> bool:
    """The controller's summary under pytest-xdist: all workers' cases and where the merged files are."""
    from .report import summary_lines

    merger, written = config.stash.get(MERGER_KEY, None), config.stash.get(MERGED_KEY, None)
    if merger is None or not written:
        return False
    terminalreporter.section("kokoro (all workers)")
    simulated = any(p["hello"].get("simulated") for p in merger.payloads.values())
    for line in summary_lines(merger.records, option(config, "kokoro_device").label, simulated):
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"results: {written[0]}")
    terminalreporter.write_line(f"pytest-benchmark: {written[1]}")
    for fault in merger.faults:
        terminalreporter.write_line(f"harness fault: {fault}")
    return True
