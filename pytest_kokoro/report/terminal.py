"""What a run prints at the end: the summary table (columns from the metric table, core/metric_table.py) and the
kokoro section around it. Plain data in, lines out; the plugin's hook only writes them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pytest_kokoro.core.metric_table import METRICS
from pytest_kokoro.core.schema import exclusion_counts
from pytest_kokoro.runner.records import CaseRecord


@dataclass(frozen=True)
class Line:
    text: str
    red: bool = False
    bold: bool = False


@dataclass
class Section:
    title: str
    lines: list[Line] = field(default_factory=list)

    def add(self, text: str, red: bool = False, bold: bool = False) -> None:
        self.lines.append(Line(text, red, bold))


def summary_lines(records: Iterable[CaseRecord], device_label: str, simulated: bool = False) -> list[str]:
    records = [r for r in records if r.results]
    if not records:
        return []
    columns = [m for m in METRICS if m.summary]
    header = ("case", "rounds", *(h for m in columns for h in ([m.heading, "min–max"] if m.compare else [m.heading])))
    rows = [(record.case.id, str(len(record.results)), *(cell for m in columns for cell in _cells(m, record)))
            for record in records]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                         for i, (cell, width) in enumerate(zip(row, widths)))

    folds = {fold: [m.label for m in columns if m.fold == fold] for fold in ("max", "last")}
    said = [f"{', '.join(labels)} = {'max' if fold == 'max' else 'last round'}" for fold, labels in folds.items() if labels]
    title = f"Kokoro benchmark on {device_label} (medians over rounds; {'; '.join(said)})"
    if simulated:
        title += " -- SIMULATED engine: these numbers test the harness, they are not Kokoro measurements"
    return [title, line(header), *(line(row) for row in rows)]


def _cells(metric, record: CaseRecord) -> list[str]:
    values = [v for v in record.values(metric.key) if v is not None]
    cells = [metric.format(metric.folded(values))]
    if metric.compare:
        cells.append(f"{metric.format(min(values))}–{metric.format(max(values))}" if len(values) > 1 else "—")
    return cells


def heat_line(records: Iterable[CaseRecord], device_label: str) -> str | None:
    """How many rounds ran hot (the plugin's ``heat_flags``, runner/heat.py) and why; None when none did."""
    results = [result for record in records for result in record.results]
    hot, counts = exclusion_counts(results, reasons=lambda result: list(result.get("heat_flags") or []))
    if not hot:
        return None
    why = ", ".join(f"{reason}: {count}" for reason, count in counts.items())
    return (f"{device_label}: {hot} of {len(results)} rounds ran hot ({why}): kept in the results, left out of gates "
            "and baselines; --kokoro-cooldown nominal waits before each round until the device has cooled down")


MIN_ROUNDS_FOR_A_SPREAD = 3


def advice(records: Iterable[CaseRecord], report: bool, baseline: bool) -> list[str]:
    """What the summary tells a user to do next: too few rounds to mean anything, the report, baselines."""
    lines = []
    fewest = min((len(r.results) for r in records if r.results), default=None)
    if fewest is not None and fewest < MIN_ROUNDS_FOR_A_SPREAD:
        lines.append(f"note: {fewest} round(s) a case: a median of so few says little and no gate can judge it; "
                     "use --kokoro-rounds 5 or more (docs/gates.md gives the counts a gate needs)")
    if not report:
        lines.append("next: --kokoro-report report.html writes the HTML report of this run (tables, figures, "
                     "timelines)")
    if not baseline:
        lines.append("next: --kokoro-save-baseline NAME stores this run; later runs compare with --kokoro-baseline NAME")
    return lines


@dataclass
class SummaryFacts:
    """Everything the end-of-run summary shows, gathered by the plugin."""

    sessions: list[tuple[list[CaseRecord], str, bool]]  # (records, device label, simulated), the A/B baseline last
    results_path: object
    device_kind: str = ""
    notes: list[str] = field(default_factory=list)
    report_line: str | None = None
    benchmark_missing: str | None = None
    judgements: list[tuple[str, str]] = field(default_factory=list)  # (case id, message)
    step_down: list[tuple[str, str]] = field(default_factory=list)
    saved: list[object] = field(default_factory=list)
    baseline_refused: str | None = None
    faults: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    pairs: list[str] = field(default_factory=list)  # A/B: the arms compared pair by pair
    advice: list[str] = field(default_factory=list)
    title: str = "kokoro"


def summary_sections(facts: SummaryFacts) -> list[Section]:
    sections = []
    if facts.notes:
        notes = Section(f"kokoro {facts.device_kind}")
        for note in facts.notes:
            notes.add(note)
        sections.append(notes)
    if not facts.sessions:
        return sections
    main = Section(facts.title)
    for records, label, simulated in facts.sessions:
        for text in summary_lines(records, label, simulated):
            main.add(text)
    for records, label, _ in facts.sessions:
        hot = heat_line(records, label)
        if hot:
            main.add(hot)
    main.add(f"results: {facts.results_path}")
    if facts.report_line:
        main.add(facts.report_line, red=facts.report_line.startswith("report not written"))
    if facts.benchmark_missing:
        main.add(facts.benchmark_missing)
    for line in facts.pairs:
        main.add(line)
    for case_id, message in facts.judgements:
        main.add(f"gate {case_id}: {message}")
    for case_id, message in facts.step_down:
        main.add(f"FAILED by the gate at the end of the run: {case_id}: {message}", red=True, bold=True)
    for path in facts.saved:
        main.add(f"baseline saved: {path}")
    if facts.baseline_refused:
        main.add(facts.baseline_refused)
    for fault in facts.faults:
        main.add(f"harness fault: {fault}")
    for what, why in facts.skipped:
        main.add(f"skipped {what}: {why}")
    for line in facts.advice:
        main.add(line)
    sections.append(main)
    return sections
