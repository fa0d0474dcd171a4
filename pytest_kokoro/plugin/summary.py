"""Gathers what the end-of-run summary shows, from a run's state or from the pytest-xdist merge; the layout is
report/terminal.py's."""

from __future__ import annotations

from typing import Any

from pytest_kokoro.plugin.run import KokoroRun
from pytest_kokoro.report.terminal import SummaryFacts

NO_BENCHMARK = ("pytest-benchmark is not active (-p no:benchmark, or not installed): the kokoro results file is "
                "complete, but there is no pytest-benchmark JSON or table; install pytest-benchmark and drop "
                "-p no:benchmark for them")


def summary_facts(run: KokoroRun, benchmark_active: bool) -> SummaryFacts:
    """A single process's (or a worker's) summary."""
    sessions = [(list(s.records.values()), s.settings.device_label, bool(s.hello.get("simulated")))
                for s in run.summary_sessions()]
    return SummaryFacts(
        sessions=sessions, results_path=run.writer.path, device_kind=run.kind.name, notes=list(run.factory.notes),
        report_line=run.report_line, benchmark_missing=None if benchmark_active else NO_BENCHMARK,
        judgements=[(case_id, j.message) for case_id, js in run.keeper.judgements.items() for j in js],
        step_down=[(case_id, j.message) for case_id, j in run.step_down],
        saved=list(run.keeper.saved), baseline_refused=run.baseline_refused,
        faults=list(run.session.faults))


def workers_summary_facts(run: KokoroRun, merger: Any) -> SummaryFacts:
    """The controller's summary under pytest-xdist: all workers' cases and where the merged files are."""
    simulated = any(p["hello"].get("simulated") for p in merger.payloads.values())
    return SummaryFacts(sessions=[(merger.records, run.requested.label, simulated)], results_path=merger.written[0],
                        report_line=run.report_line, benchmark_missing=f"pytest-benchmark: {merger.written[1]}",
                        faults=merger.faults, title="kokoro (all workers)")
