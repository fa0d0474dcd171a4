"""The pytest plugin: hooks and fixtures only. The option table is in ``options``, a run's state in ``run``; the
logic in plain modules (runner, devices, gates, benchmark, report), imported when a kokoro case runs.

pytest-benchmark and pytest-xdist are optional here: their hooks are optional hooks, and a kokoro case runs (and
says what is missing) under ``-p no:benchmark``.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any, NoReturn

import pytest

from pytest_kokoro.plugin.options import add_options, option
from pytest_kokoro.plugin.run import KokoroRun
from pytest_kokoro.runner.records import Case, CaseRecord

RUN_KEY = pytest.StashKey[KokoroRun]()
MERGER_KEY = pytest.StashKey[Any]()
_MEASURING: list[KokoroRun] = []  # runs whose harnesses are up: pytest_keyboard_interrupt gets no config
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
        reason = "fuzzing is opt-in: add --kokoro-fuzz-profile=ci (25 examples) or --kokoro-fuzz-profile=nightly (500)"
        for item in fuzz:
            item.add_marker(pytest.mark.skip(reason=reason))
        config.stash[RUN_KEY].skipped.append((f"{len(fuzz)} fuzz test(s)", reason))


def pytest_collection_finish(session: pytest.Session) -> None:
    """The cases are known: check everything that would stop the run later, before anything is measured."""
    run = session.config.stash.get(RUN_KEY, None)
    cases = sum(1 for item in session.items if "kokoro_case" in getattr(item, "fixturenames", ()))
    if run is None or not cases or session.config.option.collectonly:
        return
    run.plan_order([(item.nodeid, item.callspec.params["kokoro_case"]) for item in session.items
                    if "kokoro_case" in getattr(getattr(item, "callspec", None), "params", {})])
    problems = run.preflight(cases)
    if not problems:
        return
    if hasattr(session.config, "workerinput"):
        run.refused = "\n".join(problems)  # a pytest-xdist worker: every case fails with it, the controller lives
    else:
        raise pytest.UsageError("\n".join(problems))


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
    _MEASURING.append(run)
    previous = _interrupt_on_sigterm()
    try:
        yield run.session
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        _MEASURING.remove(run)
        run.close()


def _terminal_line(config: pytest.Config):
    """A function that writes a line to the terminal from inside a test (a cooldown's progress): around pytest's
    output capture, as its live logging does; None without a terminal reporter."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return None

    def say(text: str) -> None:
        if capture is None:
            reporter.write_line(text)
            return
        with capture.global_and_fixture_disabled():
            reporter.ensure_newline()
            reporter.write_line(text)

    return say


def _raise_keyboard_interrupt(signum, frame) -> NoReturn:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def _interrupt_on_sigterm():
    """SIGTERM (what a CI cancel sends) stops the run as Ctrl-C does: harnesses killed, results kept, a summary.
    Only in the main thread, and only while kokoro cases run; the previous handler comes back after."""
    try:
        return signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    except ValueError:  # not the main thread
        return None


def pytest_keyboard_interrupt(excinfo) -> None:
    """Ctrl-C or SIGTERM mid-round: say so at once and stop the harnesses now, not after their round."""
    for run in list(_MEASURING):
        measured = sum(len(r.results) for s in run.all_sessions() for r in s.records.values())
        sys.stderr.write(f"\nkokoro: stopping: the harness is stopped now; the {measured} round(s) measured so far "
                         f"are in {run.writer.path}\n")
        sys.stderr.flush()
        run.abort()


@pytest.fixture
def kokoro_benchmark(request: pytest.FixtureRequest, kokoro_session):
    """Run a case's timed rounds on the device, check every result, gate it against the baseline and budgets,
    and hand the timings to pytest-benchmark (when it is active)."""
    from pytest_kokoro.benchmark.adapter import feed_benchmark, mark_unmeasured
    from pytest_kokoro.gates.keeper import GateSetupError
    from pytest_kokoro.runner.cases import BudgetError
    from pytest_kokoro.runner.session import CaseFailed, CaseUnavailable

    run = request.config.stash[RUN_KEY]
    benchmark = request.getfixturevalue("benchmark") if request.config.pluginmanager.has_plugin("benchmark") else None
    budget = request.node.get_closest_marker("kokoro_budget")

    say = _terminal_line(request.config)
    if say is not None:
        from pytest_kokoro.runner.session import Progress

        for session in [*run.all_sessions(), *([run.ab_baseline] if run.ab_baseline is not None else [])]:
            session.progress = session.progress or Progress(say)

    def run_case(case: Case) -> CaseRecord:
        runner = run.case_runner(case, say)
        try:
            try:
                first = run.first_measurement(case, request.node.nodeid, say)
                outcome = runner.run(case, request.node.nodeid, budget.kwargs if budget is not None else None, first)
            except CaseUnavailable as error:
                run.skipped.append((case.id, str(error)))
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


@pytest.hookimpl(wrapper=True, optionalhook=True)
def pytest_benchmark_group_stats(config: pytest.Config, benchmarks, group_by):
    """pytest-benchmark's table leaves the kokoro cases out unless --kokoro-benchmark-table: its columns (min, OPS,
    outliers of an inference time) are not what a speech engineer reads; the kokoro summary below is."""
    groups = yield
    run = _started(config)
    asked = option(config, "kokoro_benchmark_table") or any(
        config.getoption(name, None) for name in ("benchmark_compare", "benchmark_columns"))
    if run is None or asked:  # a pytest-benchmark option of the table's own asks for the table
        return groups
    ours = {r.nodeid for s in run.all_sessions() for r in s.records.values()}
    kept = [(name, [b for b in group if b.get("fullname") not in ours]) for name, group in groups]
    return [(name, group) for name, group in kept if group]


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    """One header line that says how the kokoro cases run, since pytest-benchmark's header above it gives its own
    defaults (min_rounds=5, warmup=False), which do not apply to them."""
    run = config.stash.get(RUN_KEY, None)
    cases = sum(1 for item in items if "kokoro_case" in getattr(item, "fixturenames", ()))
    if run is None or not cases:
        return []
    engines = ", ".join(e for e in run.engines if e) or "its own engine"
    return [f"kokoro: {cases} case(s) on {run.requested.label} ({engines}), {run.settings.rounds} timed round(s) "
            f"each, warm-up {'on' if run.settings.warmup else 'off'}; times are the harness's, not pytest-benchmark's"]


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    run = _started(config)
    if run is not None:
        machine_info.update(run.machine_info())


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    merger = config.stash.get(MERGER_KEY, None)
    if (merger is None or not merger.written) and _started(config) is None:
        return  # no kokoro case ran here: nothing to import or say
    from pytest_kokoro.plugin.summary import summary_facts, workers_summary_facts
    from pytest_kokoro.report.terminal import summary_sections

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
