"""Gathers what the end-of-run summary shows, from a run's state or from the pytest-xdist merge; the layout is
report/terminal.py's."""

from __future__ import annotations

from typing import Any

from pytest_kokoro.plugin.options import option
from pytest_kokoro.plugin.run import KokoroRun
from pytest_kokoro.report.terminal import SummaryFacts, advice

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
        faults=list(run.session.faults), skipped=list(run.skipped),
        pairs=ab_pairs(run),
        advice=advice([r for records, _, _ in sessions for r in records], report=bool(option(run.config, "kokoro_report")),
                      baseline=bool(option(run.config, "kokoro_baseline") or run.keeper.save_as or run.ab_command)))


def ab_pairs(run: KokoroRun) -> list[str]:
    """In an A/B run: per compared metric, the median per-pair ratio candidate/baseline over all cases' pairs, with
    its 95% interval; in the A/A check, what an interval that excludes 1 means."""
    baseline = run.ab_baseline
    if baseline is None or not baseline.records:
        return []
    from pytest_kokoro.core.metric_table import METRICS
    from pytest_kokoro.core.schema import gate_pairs
    from pytest_kokoro.gates.statistics import median_ratio_interval
    from pytest_kokoro.plugin.run import AA_CHECK

    pairs: dict[str, tuple[list[float], list[float]]] = {m.key: ([], []) for m in METRICS if m.compare}
    for nodeid, candidate in run.session.records.items():
        base = baseline.records.get(nodeid)
        if base is None:
            continue
        for key, (base_values, candidate_values) in pairs.items():
            for b, c in gate_pairs(base.results, candidate.results):  # the pairs the gate compares
                if b.get(key) is not None and c.get(key) is not None:
                    base_values.append(float(b[key]))
                    candidate_values.append(float(c[key]))
    lines = []
    for metric in (m for m in METRICS if m.compare):
        base_values, candidate_values = pairs[metric.key]
        if not base_values:
            continue
        ratio, low, high = median_ratio_interval(base_values, candidate_values)
        lines.append(f"{metric.label} candidate/baseline: median of {len(base_values)} per-pair ratios {ratio:.3f}, "
                     f"95% interval {low:.3f}–{high:.3f}")
    if run.ab_command == AA_CHECK and lines:
        lines.insert(0, "A/A check (the same harness on both arms): an interval that excludes 1.000 is a bias of this "
                        "setup, which a gate would charge to the code; pool several runs to narrow it (docs/gates.md)")
    return lines


def workers_summary_facts(run: KokoroRun, merger: Any) -> SummaryFacts:
    """The controller's summary under pytest-xdist: all workers' cases and where the merged files are."""
    simulated = any(p["hello"].get("simulated") for p in merger.payloads.values())
    return SummaryFacts(sessions=[(merger.records, run.requested.label, simulated)], results_path=merger.written[0],
                        report_line=run.report_line, benchmark_missing=f"pytest-benchmark: {merger.written[1]}",
                        faults=merger.faults, title="kokoro (all workers)")
