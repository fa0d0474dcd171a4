"""One self-contained HTML report from results files: tables, matplotlib SVG figures, a jinja2 template.

    python -m pytest_kokoro.report results/benchmark_results_*.json -o report.html
    pytest benchmarks/ --kokoro-report report.html

Nothing in the page is fetched: the figures are inline SVG, the style sheet is in the page, and there is no script.
The file is written to a temporary name and renamed, so a failure leaves no partial report.

The page says what produced the numbers (report/sources.py) at its top and beside each comparison; a column is one
device of one results file, so rounds of different runs are never pooled; rounds that broke a rule are marked and
left out of medians and figures.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from pytest_kokoro.core.metric_table import METRICS
from pytest_kokoro.core.sentences import SPLIT_STRATEGIES
from pytest_kokoro.report import figures
from pytest_kokoro.report.rounds import ReportInputError, Run, load_runs
from pytest_kokoro.report.sources import Source, broken_rules, is_broken, source_order, sources_of

# The summary table's metric columns: the metric table's rows marked for the report (core/metric_table.py).
SUMMARY_COLUMNS = tuple((m.key, m.heading, m.digits) for m in METRICS if m.report)
# Compared across variants and devices, in tables and figures: the rows marked ``compare``.
COMPARED = tuple(m for m in METRICS if m.compare)


def _spread(values: list[float], digits: int) -> dict[str, str]:
    if not values:
        return {"median": "—", "spread": ""}
    fmt = f"{{:.{digits}f}}"
    return {"median": fmt.format(statistics.median(values)),
            "spread": f"{fmt.format(min(values))}–{fmt.format(max(values))}" if len(values) > 1 else ""}


def _values(rounds: list[dict[str, Any]], key: str) -> list[float]:
    return [float(r[key]) for r in rounds if r.get(key) is not None]


def _kept(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rounds medians and figures are made of: those that kept every rule (or whose file predates the check)."""
    return [r for r in rounds if not is_broken(r)]


def _rounds_note(group: list[dict[str, Any]]) -> str:
    broken = sum(1 for r in group if is_broken(r))
    unchecked = sum(1 for r in group if broken_rules(r) is None)
    notes = []
    if broken:
        notes.append(f"{broken} broke a rule, left out")
    if unchecked:
        notes.append(f"{unchecked} from before broken_rules")
    return "; ".join(notes)


def _summary_rows(rounds: list[dict[str, Any]], order: dict[str, int]) -> list[dict[str, Any]]:
    by_case: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rounds:
        by_case[(r["case"], r["_source"])].append(r)
    rows = []
    for (case, source), group in sorted(by_case.items(), key=lambda item: (order[item[0][1]], item[0][0])):
        kept = _kept(group)
        cold = [r for r in kept if r.get("cold")]
        rows.append({
            "case": case, "source": source, "split": group[0]["split"], "rounds": len(group),
            "rounds_note": _rounds_note(group), "broken": len(group) - len(kept),
            "chunks": group[-1].get("chunk_count", len(group[-1]["per_sentence_inference"])),
            "cells": [_spread(_values(kept, key), digits) for key, _, digits in SUMMARY_COLUMNS],
            "load": _spread(_values(cold, "model_load_time"), 3),
            "cold_ttfa": _spread(_values(cold, "cold_time_to_first_audio"), 3),
            "simulated": any(r.get("simulated") for r in group),
        })
    return rows


def _comparisons(rounds: list[dict[str, Any]], sources: list[Source]) -> list[dict[str, Any]]:
    """For each text and voice: the compared metrics by variant (and split strategy, when there are several), the
    sources side by side, with what produced them beside the figure. SIMULATED rounds get comparisons of their own:
    their numbers are never drawn on the axes of measurements."""
    order = source_order(sources)
    by_label_source = {s.label: s for s in sources}
    groups: dict[tuple[str, str, bool], dict[tuple[str, str], dict[str, list[dict[str, Any]]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list)))
    for r in rounds:
        groups[(r["text"], r["voice"], bool(r.get("simulated")))][(r["variant"], r["split"])][r["_source"]].append(r)
    out = []
    for (text, voice, simulated), by_key in sorted(groups.items(), key=lambda item: (item[0][2], item[0][1], item[0][0])):
        several_splits = len({split for _, split in by_key}) > 1
        by_label = {f"{variant} {split}" if several_splits else variant: by_source
                    for (variant, split), by_source in sorted(by_key.items(), key=_variant_split_order)}
        names = sorted({s for v in by_label.values() for s in v}, key=order.__getitem__)
        rows = []
        for label, by_source in by_label.items():
            cells = []
            for name in names:
                group = by_source.get(name, [])
                kept = _kept(group)
                for m in COMPARED:
                    cells.append({**_spread(_values(kept, m.key), m.digits),
                                  "left_out": len(group) - len(kept)})
            rows.append({"variant": label, "cells": cells})
        kept_groups = {label: {name: _kept(group) for name, group in by_source.items()}
                       for label, by_source in by_label.items()}
        bars = sum(1 for by_source in kept_groups.values() for group in by_source.values() if group)
        variants = sorted({variant for variant, _ in by_key})
        title = f"voice {voice}: “{text[:80]}{'…' if len(text) > 80 else ''}”"
        if simulated:
            title += ", SIMULATED engine (tests the harness, not a measurement)"
        out.append({
            "title": title, "sources": names, "rows": rows,
            # One bar says nothing a table cell does not; the page keeps its space for comparisons.
            "figure": Markup(figures.comparison(kept_groups, COMPARED, names)) if bars > 1 else None,
            "no_figure": None if bars > 1 else ("One variant on one device: the table holds the numbers, no figure."
                                                if bars else "No round kept the rules: no figure."),
            "context": _context([by_label_source[n] for n in names], variants),
        })
    return out


def _context(sources: list[Source], variants: list[str] | None = None) -> dict[str, Any]:
    """Facts as rows, sources as columns (the table at the top, and the one beside each comparison)."""
    facts = [s.facts(variants) for s in sources]
    headings = list(facts[0]) if facts else []
    return {"sources": [s.label for s in sources],
            "rows": [{"fact": h, "values": [f[h] for f in facts]} for h in headings]}


def _variant_split_order(item) -> tuple[str, int]:
    (variant, split), _ = item
    return (variant, SPLIT_STRATEGIES.index(split) if split in SPLIT_STRATEGIES else len(SPLIT_STRATEGIES))


def _timelines(rounds: list[dict[str, Any]], order: dict[str, int]) -> list[dict[str, Any]]:
    """Per case and source, the round with the median TTFA among those whose playback can be replayed."""
    by_case: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rounds:
        by_case[(r["case"], r["_source"])].append(r)
    out = []
    for (case, source), group in sorted(by_case.items(), key=lambda item: (order[item[0][1]], item[0][0])):
        playable = sorted((r for r in _kept(group) if "_playback" in r), key=lambda r: r["time_to_first_audio"])
        if not playable:
            out.append({"case": case, "source": source, "figure": None, "heat": _heat(group)})
            continue
        chosen = playable[len(playable) // 2]
        title = (f"{case} on {source}, round {chosen.get('round', '?')}: TTFA {chosen['time_to_first_audio']:.3f} s, "
                 f"{chosen['stall_count']} stall(s), gapless start {chosen['gapless_start_time']:.3f} s")
        out.append({"case": case, "source": source, "figure": Markup(figures.timeline(chosen, title)),
                    "heat": _heat(group)})
    return out


# The heat keys of a round (docs/results.md "Heat"), before and after: heading, key stem, how a value is shown.
HEAT_COLUMNS = (
    ("calibration ms", "calibration_time", lambda v: f"{v * 1000:.1f}"),
    ("CPU °C", "cpu_temperature_c", lambda v: f"{v:.1f}"),
    ("CPU MHz", "cpu_frequency_mhz", lambda v: f"{v:.0f}"),
    ("thermal state", "thermal_state", str),
)


def _heat(group: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Every round of a case on a source, in the order they ran, with its heat before and after; a column only
    where some round has a reading (a VM has no temperature), hot rounds (``heat_flags``) marked."""
    def key(stem: str, when: str) -> str:
        return stem if stem == "calibration_time" and when == "before" else f"{stem}_{when}"

    columns = [(heading, stem, show) for heading, stem, show in HEAT_COLUMNS
               if any(r.get(key(stem, when)) is not None for r in group for when in ("before", "after"))]
    if not columns:
        return None
    rows = []
    for r in group:
        cells = [show(r[key(stem, when)]) if r.get(key(stem, when)) is not None else "—"
                 for _, stem, show in columns for when in ("before", "after")]
        rows.append({"round": r.get("round", "?"), "cells": cells, "hot": ", ".join(r.get("heat_flags") or [])})
    return {"headings": [heading for heading, _, _ in columns], "rows": rows,
            "hot": sum(1 for row in rows if row["hot"])}


def _trend(runs: list[Run]) -> str | None:
    if len(runs) < 2:
        return None
    series: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for index, run in enumerate(runs):
        by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in _kept(run.rounds):
            by_case[f"{r['case']} ({r['device']}{', SIMULATED' if r.get('simulated') else ''})"].append(r)
        for name, group in by_case.items():
            series[name].append((index, *(statistics.median(_values(group, m.key) or [math.nan]) for m in COMPARED)))
    if not any(len(points) > 1 for points in series.values()):
        return None  # no case in two runs: nothing trends
    return Markup(figures.trend(series, [run.label for run in runs], COMPARED))


def _broken_rounds(runs: list[Run]) -> list[dict[str, Any]]:
    return [{"file": run.path.name, "source": r["_source"], "case": r["case"], "round": r.get("round", "?"),
             "rules": broken_rules(r)} for run in runs for r in run.rounds if is_broken(r)]


def render(runs: list[Run]) -> str:
    sources = sources_of(runs)
    order = source_order(sources)
    rounds = [r for run in runs for r in run.rounds]
    comparisons = _comparisons(rounds, sources)
    variants = {r["variant"] for r in rounds}
    environment = jinja2.Environment(loader=jinja2.PackageLoader("pytest_kokoro.report", "templates"),
                                      autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.get_template("report.html.j2").render(
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        runs=runs, rounds=rounds, columns=[label for _, label, _ in SUMMARY_COLUMNS],
        compared=[m.label for m in COMPARED],
        context=_context(sources), sources=sources,
        summary=_summary_rows(rounds, order), comparisons=comparisons, timelines=_timelines(rounds, order),
        trend=_trend(runs), broken=_broken_rounds(runs),
        unchecked=sum(s.unchecked for s in sources),
        # Several variants or devices: the comparisons are what the reader came for, so they open the page.
        comparisons_first=len(variants) > 1 or len(sources) > 1,
        simulated=any(r.get("simulated") for r in rounds),
    )


def write_report(paths: list[Path], output: Path) -> Path:
    """Render the report of ``paths`` into ``output``; ReportInputError (nothing written) on bad input."""
    page = render(load_runs([Path(p) for p in paths]))
    output = Path(output)
    if output.parent and not output.parent.is_dir():
        raise ReportInputError(f"{output.parent} is not a folder: create it or write the report elsewhere")
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(page)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is for reading
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return output
