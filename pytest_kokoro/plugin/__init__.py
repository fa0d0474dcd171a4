"""The pytest plugin: hooks and fixtures only. The option table is in ``options``, a run's state in ``run``; the
logic in plain modules (runner, devices, gates, benchmark, report), imported when a kokoro case runs.

pytest-benchmark and pytest-xdist are optional here: their hooks are optional hooks, and a kokoro case runs (and
says what is missing) under ``-p no:benchmark``.
"""

from __future__ import annotations

import os
from typing import Any, NoReturn

import pytest

from pytest_kokoro.plugin.options import add_options, option
from pytest_kokoro.plugin.run import KokoroRun
from pytest_kokoro.runner.records import Case, CaseRecord

RUN_KEY = pytest.StashKey[KokoroRun]()
MERGER_KEY = pytest.StashKey[Any]()
MERGED_KEY = pytest.StashKey[tuple]()
REPORT_KEY = pytest.StashKey[str]()
STEP_DOWN_KEY = pytest.StashKey[list]()
NO_BENCHMARK = ("pytest-benchmark is not active (-p no:benchmark, or not installed): the kokoro results file is "
                "complete, but there is no pytest-benchmark JSON or table; install pytest-benchmark and drop "
                "-p no:benchmark for them")


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
    config.stash[RUN_KEY] = KokoroRun(config)


def _started(config: pytest.Config) -> KokoroRun | None:
    """The run's kokoro state, if a kokoro case used it."""
    run = config.stash.get(RUN_KEY, None)
    return run if run is not None and run.started else None


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
    run = session.config.stash.get(RUN_KEY, None)
    cases = sum(1 for item in session.items if "kokoro_case" in getattr(item, "fixturenames", ()))
    if run is None or not cases or not (run.ab_command or option(session.config, "kokoro_baseline")):
        return  # no gate in this run: nothing to import or check
    run.keeper.set_family(cases)
    problem = run.keeper.rounds_problem(run.settings.rounds)
    if problem:
        raise pytest.UsageError(problem)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kokoro_case" in metafunc.fixturenames:
        cases = metafunc.config.stash[RUN_KEY].cases
        metafunc.parametrize("kokoro_case", cases, ids=[case.id for case in cases])


@pytest.fixture(scope="session")
def kokoro_session(request: pytest.FixtureRequest):
    """The run's harness session: the device's harness starts on first use and stops at the end of the run."""
    run = request.config.stash[RUN_KEY]
    refusal = run.refusal()
    if refusal:
        fail(refusal)
    yield run.session
    run.close()


@pytest.fixture
def kokoro_benchmark(request: pytest.FixtureRequest, kokoro_session):
    """Run a case's timed rounds on the device, check every result, gate it against the baseline and budgets,
    and hand the timings to pytest-benchmark (when it is active)."""
    from pytest_kokoro.benchmark.adapter import feed_benchmark, mark_unmeasured
    from pytest_kokoro.gates.keeper import GateSetupError
    from pytest_kokoro.runner.cases import BudgetError, CaseRunner
    from pytest_kokoro.runner.session import CaseFailed, CaseUnavailable

    run = request.config.stash[RUN_KEY]
    benchmark = request.getfixturevalue("benchmark") if request.config.pluginmanager.has_plugin("benchmark") else None
    budget = request.node.get_closest_marker("kokoro_budget")

    def run_case(case: Case) -> CaseRecord:
        runner = CaseRunner(run.session_for(case), run.keeper, run.ab_baseline)
        try:
            try:
                outcome = runner.run(case, request.node.nodeid, budget.kwargs if budget is not None else None)
            except CaseUnavailable as error:
                pytest.skip(str(error))
            except (CaseFailed, GateSetupError) as error:
                fail(str(error))
            except BudgetError as error:
                raise pytest.UsageError(f"{request.node.nodeid}: kokoro_budget: {error}") from None
            if benchmark is not None:
                feed_benchmark(benchmark, outcome.record)
            if outcome.failures:
                fail("\n".join(outcome.failures))
            return outcome.record
        except BaseException:
            if benchmark is not None and benchmark.stats is None:
                mark_unmeasured(benchmark)
            raise

    return run_case


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_json(config: pytest.Config, benchmarks, output_json: dict[str, Any]) -> None:
    """RTF and TTFA as benchmark entries of their own, beside each case's inference-time entry."""
    run = _started(config)
    if run is not None:
        from pytest_kokoro.benchmark.adapter import add_metric_entries

        add_metric_entries({r.nodeid: r for s in run.all_sessions() for r in s.records.values()}, output_json)


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    run = _started(config)
    if run is None:
        return
    from pytest_kokoro.runner.results import device_facts

    machine_info["kokoro_device"] = device_facts(run.settings.device_label, run.session.hello)
    if run.factory.facts:
        from pytest_kokoro.devices.iphone.device import device_facts_with_thermal

        machine_info["kokoro_iphones"] = device_facts_with_thermal(run.factory.facts, run.writer.results)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    _workers_summary(terminalreporter, config)
    run = _started(config)
    if run is None:
        return
    from pytest_kokoro.report.terminal import summary_lines

    if run.factory.notes:
        terminalreporter.section("kokoro iphone")
        for line in run.factory.notes:
            terminalreporter.write_line(line)
    session = run.session
    if not session.records:
        return
    terminalreporter.section("kokoro")
    for line in summary_lines(session.records.values(), session.settings.device_label,
                              bool(session.hello.get("simulated"))):
        terminalreporter.write_line(line)
    for other in run.engine_sessions.values():
        if other.records:
            for line in summary_lines(other.records.values(), other.settings.device_label,
                                      bool(other.hello.get("simulated"))):
                terminalreporter.write_line(line)
    ab_baseline = run.ab_baseline
    if ab_baseline is not None and ab_baseline.records:
        for line in summary_lines(ab_baseline.records.values(), ab_baseline.settings.device_label,
                                  bool(ab_baseline.hello.get("simulated")))[:1] + summary_lines(
                ab_baseline.records.values(), ab_baseline.settings.device_label)[2:]:
            terminalreporter.write_line(line)
    terminalreporter.write_line(f"results: {session.writer.path}")
    _report_line(terminalreporter, config)
    if not config.pluginmanager.has_plugin("benchmark"):
        terminalreporter.write_line(NO_BENCHMARK)
    keeper = run.keeper
    for case_id, judgements in keeper.judgements.items():
        for judgement in judgements:
            terminalreporter.write_line(f"gate {case_id}: {judgement.message}")
    for case_id, judgement in config.stash.get(STEP_DOWN_KEY, []):
        terminalreporter.write_line(f"FAILED by the gate at the end of the run: {case_id}: {judgement.message}",
                                    red=True, bold=True)
    for path in keeper.saved:
        terminalreporter.write_line(f"baseline saved: {path}")
    if run.baseline_refused:
        terminalreporter.write_line(run.baseline_refused)
    for fault in session.faults:
        terminalreporter.write_line(f"harness fault: {fault}")


# -- pytest-xdist: one worker per phone, one results file (see benchmark/xdist.py) -----------------------------------
@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    run = _started(config)
    if run is not None and run.keeper.gating:
        # Holm's later steps: only possible after a first-step rejection, which already failed a case.
        config.stash[STEP_DOWN_KEY] = run.keeper.step_down()
        if config.stash[STEP_DOWN_KEY] and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if run is not None and run.keeper.save_as:
        from pytest_kokoro.runner.cases import baseline_cases

        cases, failed = baseline_cases(run.session.records.values())
        if failed:
            run.baseline_refused = (f"baseline {run.keeper.save_as!r} NOT saved: {', '.join(failed)} did not pass; "
                                    "a baseline is saved only from a run in which every case passed its rules")
        else:
            run.keeper.save(cases)
    if run is not None and hasattr(config, "workeroutput"):
        from pytest_kokoro.benchmark.xdist import WORKER_OUTPUT_KEY, worker_payload

        config.workeroutput[WORKER_OUTPUT_KEY] = worker_payload(run.session, run.factory.facts)
    merger = config.stash.get(MERGER_KEY, None)
    if merger is not None:
        kokoro = config.stash[RUN_KEY]
        written = merger.write(kokoro.writer.path, config.getoption("benchmark_json", None))
        if written:
            config.stash[MERGED_KEY] = written
            _write_html_report(session, written[0])
    elif run is not None and run.session.records and not hasattr(config, "workeroutput"):
        _write_html_report(session, run.session.writer.path)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    from pytest_kokoro.benchmark.xdist import WORKER_OUTPUT_KEY, ResultsMerger

    payload = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    if payload is not None:
        config = node.config
        if MERGER_KEY not in config.stash:
            config.stash[MERGER_KEY] = ResultsMerger()
        config.stash[MERGER_KEY].add(node.workerinput["workerid"], payload)


def _write_html_report(session: pytest.Session, results_path) -> None:
    """--kokoro-report PATH: the HTML report of this run's results file; a failure fails the run."""
    config = session.config
    target = option(config, "kokoro_report")
    if not target or results_path is None:
        return
    try:
        from pytest_kokoro.report.html import write_report
    except ImportError as error:
        config.stash[REPORT_KEY] = (f"report not written: {error.name} is not installed; "
                                    "pip install 'pytest-kokoro[report]'")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    from pytest_kokoro.report.rounds import ReportInputError

    try:
        config.stash[REPORT_KEY] = f"report: {write_report([results_path], target)}"
    except ReportInputError as error:
        config.stash[REPORT_KEY] = f"report not written: {error}"
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _report_line(terminalreporter, config: pytest.Config) -> None:
    line = config.stash.get(REPORT_KEY, None)
    if line is not None:
        terminalreporter.write_line(line, red=line.startswith("report not written"))


def _workers_summary(terminalreporter, config: pytest.Config) -> bool:
    """The controller's summary under pytest-xdist: all workers' cases and where the merged files are."""
    merger, written = config.stash.get(MERGER_KEY, None), config.stash.get(MERGED_KEY, None)
    if merger is None or not written:
        return False
    from pytest_kokoro.report.terminal import summary_lines

    terminalreporter.section("kokoro (all workers)")
    simulated = any(p["hello"].get("simulated") for p in merger.payloads.values())
    for line in summary_lines(merger.records, config.stash[RUN_KEY].requested.label, simulated):
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"results: {written[0]}")
    terminalreporter.write_line(f"pytest-benchmark: {written[1]}")
    _report_line(terminalreporter, config)
    for fault in merger.faults:
        terminalreporter.write_line(f"harness fault: {fault}")
    return True
