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
    if run.refused:
        fail(run.refused)
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
    if run is not None:
        machine_info.update(run.machine_info())


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    from pytest_kokoro.plugin.summary import summary_facts, workers_summary_facts
    from pytest_kokoro.report.terminal import summary_sections

    merger = config.stash.get(MERGER_KEY, None)
    facts = []
    if merger is not None and merger.written:
        facts.append(workers_summary_facts(config.stash[RUN_KEY], merger))
    run = _started(config)
    if run is not None:
        facts.append(summary_facts(run, benchmark_active=config.pluginmanager.has_plugin("benchmark")))
    for sections in facts:
        for section in summary_sections(sections):
            terminalreporter.section(section.title)
            for line in section.lines:
                terminalreporter.write_line(line.text, red=line.red, bold=line.bold)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    run = _started(session.config)
    if run is not None:
        run.finish(session)
    merger = session.config.stash.get(MERGER_KEY, None)
    if merger is not None:
        merger.finish(session, session.config.stash[RUN_KEY])


# -- pytest-xdist: one worker per device, one results file (see benchmark/xdist.py) ---------------------------------
@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    from pytest_kokoro.benchmark.xdist import WORKER_OUTPUT_KEY, ResultsMerger

    payload = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    if payload is not None:
        if MERGER_KEY not in node.config.stash:
            node.config.stash[MERGER_KEY] = ResultsMerger()
        node.config.stash[MERGER_KEY].add(node.workerinput["workerid"], payload)
