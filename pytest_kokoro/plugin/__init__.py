"""The pytest plugin: hooks and fixtures only. The option table is in ``options``; the logic in plain modules
(runner, devices, gates, benchmark, report).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn

import pytest

from pytest_kokoro.benchmark.adapter import add_metric_entries, feed_benchmark, mark_unmeasured
from pytest_kokoro.benchmark.xdist import (WORKER_OUTPUT_KEY, ResultsMerger, WorkerSetupError, results_location,
                                           worker_device, worker_payload)
from pytest_kokoro.devices.base import DeviceSettings, parse_device
from pytest_kokoro.devices.registry import DeviceFactory, baseline_factory
from pytest_kokoro.gates.baselines import BaselineStore
from pytest_kokoro.gates.keeper import GateKeeper, GateSetupError
from pytest_kokoro.gates.spec import GateSpec
from pytest_kokoro.plugin.options import add_options, build_cases, models, option
from pytest_kokoro.runner.cases import BudgetError, CaseRunner
from pytest_kokoro.runner.results import ResultsWriter, device_facts, results_file_name
from pytest_kokoro.runner.session import Case, CaseFailed, CaseRecord, CaseUnavailable, KokoroSession, Settings

SESSION_KEY = pytest.StashKey[KokoroSession]()
CASES_KEY = pytest.StashKey[list[Case]]()
GATES_KEY = pytest.StashKey[GateKeeper]()
AB_KEY = pytest.StashKey[KokoroSession]()
DEVICES_KEY = pytest.StashKey[DeviceFactory]()
MERGER_KEY = pytest.StashKey[ResultsMerger]()
MERGED_KEY = pytest.StashKey[tuple]()
STEP_DOWN_KEY = pytest.StashKey[list]()


def fail(message: str) -> NoReturn:
    """Fail the test with ``message`` alone: no traceback, and not the chain of exceptions being handled (the
    message already says what happened; pytest would otherwise print it once per exception in the chain)."""
    raise pytest.fail.Exception(message, pytrace=False) from None


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


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
    given_models = models(config)
    results_dir = Path(option(config, "kokoro_results_dir"))
    config.stash[CASES_KEY] = build_cases(config, device, given_models)
    warmup = option(config, "kokoro_warmup")
    settings = Settings(device_label=device.label, rounds=option(config, "kokoro_rounds"),
                        warmup=True if warmup is None else bool(warmup), timeout=option(config, "kokoro_timeout"))
    app = option(config, "kokoro_app")
    device_settings = DeviceSettings(results_dir, timeout=option(config, "kokoro_timeout"), models=given_models,
                                     voice_pack=option(config, "kokoro_voice_pack"), app=Path(app) if app else None,
                                     launch=option(config, "kokoro_launch"), port=option(config, "kokoro_port"))
    factory = config.stash[DEVICES_KEY] = DeviceFactory(device, device_settings)
    config.add_cleanup(factory.close)
    writer = ResultsWriter(*results_location(config, results_dir, results_file_name()),
                           write_wavs=bool(option(config, "kokoro_wav")))
    ab_command = option(config, "kokoro_ab_baseline")
    config.stash[SESSION_KEY] = KokoroSession(settings, factory, writer, arm="candidate" if ab_command else None)
    if ab_command:
        ab_settings = Settings(**{**settings.__dict__, "device_label": f"{device.label} A/B baseline"})
        config.stash[AB_KEY] = KokoroSession(ab_settings,
                                             baseline_factory(ab_command, device_settings, ab_settings.device_label),
                                             writer, arm="baseline")
    config.stash[GATES_KEY] = GateKeeper(BaselineStore(Path(option(config, "kokoro_baselines_dir"))),
                                         option(config, "kokoro_gate") or GateSpec(),
                                         option(config, "kokoro_baseline"), option(config, "kokoro_save_baseline"),
                                         paired=bool(ab_command))


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


def pytest_collection_finish(session: pytest.Session) -> None:
    """The gates' family is known now: every collected case × gated metric. A gate that could never fail with the
    chosen rounds stops the run here, before anything is measured."""
    keeper = session.config.stash.get(GATES_KEY, None)
    if keeper is None:
        return
    keeper.set_family(sum(1 for item in session.items if "kokoro_case" in getattr(item, "fixturenames", ())))
    problem = keeper.rounds_problem(session.config.stash[SESSION_KEY].settings.rounds)
    if problem:
        raise pytest.UsageError(problem)


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


@pytest.fixture
def kokoro_benchmark(request: pytest.FixtureRequest, kokoro_session: KokoroSession, benchmark):
    """Run a case's timed rounds on the device, check every result, gate it against the baseline and budgets,
    and hand the timings to pytest-benchmark."""
    runner = CaseRunner(kokoro_session, request.config.stash[GATES_KEY], request.config.stash.get(AB_KEY, None))
    budget = request.node.get_closest_marker("kokoro_budget")

    def run(case: Case) -> CaseRecord:
        try:
            try:
                outcome = runner.run(case, request.node.nodeid, budget.kwargs if budget is not None else None)
            except CaseUnavailable as error:
                pytest.skip(str(error))
            except (CaseFailed, GateSetupError) as error:
                fail(str(error))
            except BudgetError as error:
                raise pytest.UsageError(f"{request.node.nodeid}: kokoro_budget: {error}") from None
            feed_benchmark(benchmark, outcome.record)
            if outcome.failures:
                fail("\n".join(outcome.failures))
            return outcome.record
        except BaseException:
            if benchmark.stats is None:
                mark_unmeasured(benchmark)
            raise

    return run


def pytest_benchmark_update_json(config: pytest.Config, benchmarks, output_json: dict[str, Any]) -> None:
    """RTF and TTFA as benchmark entries of their own, beside each case's inference-time entry."""
    add_metric_entries({r.nodeid: r for r in config.stash[SESSION_KEY].records.values()}, output_json)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    session = config.stash[SESSION_KEY]
    machine_info["kokoro_device"] = device_facts(session.settings.device_label, session.hello)
    factory = config.stash.get(DEVICES_KEY, None)
    if factory is not None and factory.facts:
        from pytest_kokoro.devices.iphone.device import device_facts_with_thermal

        machine_info["kokoro_iphones"] = device_facts_with_thermal(factory.facts, session.writer.results)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    from pytest_kokoro.report.terminal import summary_lines

    _workers_summary(terminalreporter, config)
    factory = config.stash.get(DEVICES_KEY, None)
    if factory is not None and factory.notes:
        terminalreporter.section("kokoro iphone")
        for line in factory.notes:
            terminalreporter.write_line(line)
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
    for case_id, judgement in config.stash.get(STEP_DOWN_KEY, []):
        terminalreporter.write_line(f"FAILED by the gate at the end of the run: {case_id}: {judgement.message}",
                                    red=True, bold=True)
    for path in keeper.saved:
        terminalreporter.write_line(f"baseline saved: {path}")
    for fault in session.faults:
        terminalreporter.write_line(f"harness fault: {fault}")


# -- pytest-xdist: one worker per phone, one results file (see benchmark/xdist.py) -----------------------------------
@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    kokoro = config.stash.get(SESSION_KEY, None)
    keeper = config.stash.get(GATES_KEY, None)
    if keeper is not None and keeper.gating:
        # Holm's later steps: only possible after a first-step rejection, which already failed a case.
        config.stash[STEP_DOWN_KEY] = keeper.step_down()
        if config.stash[STEP_DOWN_KEY] and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if kokoro is not None and keeper is not None and keeper.save_as:
        keeper.save([(r.case.id, r.results) for r in kokoro.records.values()])
    if kokoro is not None and hasattr(config, "workeroutput"):
        config.workeroutput[WORKER_OUTPUT_KEY] = worker_payload(kokoro, config.stash[DEVICES_KEY].facts)
    merger = config.stash.get(MERGER_KEY, None)
    if merger is not None and kokoro is not None:
        written = merger.write(kokoro.writer.path)
        if written:
            config.stash[MERGED_KEY] = written


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
    from pytest_kokoro.report.terminal import summary_lines

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
