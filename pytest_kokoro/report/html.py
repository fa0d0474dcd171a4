"""One self-contained HTML report from results files: tables, matplotlib SVG figures, a jinja2 template.

    python -m pytest_kokoro.report results/benchmark_results_*.json -o report.html
    pytest benchmarks/ --kokoro-report report.html

Nothing in the page is fetched: the figures are inline SVG, the style sheet is in the page, and there is no script.
The file is written to a temporary name and renamed, so a failure leaves no partial report.
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


def _summary_rows(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_case: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rounds:
        by_case[(r["case"], r["device"])].append(r)
    rows = []
    for (case, device), group in sorted(by_case.items(), key=lambda item: (figures.device_sort_key(item[0][1]), item[0][0])):
        cold = [r for r in group if r.get("cold")]
        rows.append({
            "case": case, "device": device, "split": group[0]["split"], "rounds": len(group),
            "chunks": group[-1].get("chunk_count", len(group[-1]["per_sentence_inference"])),
            "cells": [_spread(_values(group, key), digits) for key, _, digits in SUMMARY_COLUMNS],
            "load": _spread(_values(cold, "model_load_time"), 3),
            "cold_ttfa": _spread(_values(cold, "cold_time_to_first_audio"), 3),
            "simulated": any(r.get("simulated") for r in group),
        })
    return rows


def _comparisons(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each text and voice: the compared metrics (TTFA and RTF) by variant (and split strategy, when there are several), the devices
    side by side."""
    groups: dict[tuple[str, str], dict[str, dict[str, list[dict[str, Any]]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list)))
    for r in rounds:
        groups[(r["text"], r["voice"])][(r["variant"], r["split"])][r["device"]].append(r)
    out = []
    for (text, voice), by_key in sorted(groups.items(), key=lambda item: (item[0][1], item[0][0])):
        several_splits = len({split for _, split in by_key}) > 1
        by_label = {f"{variant} {split}" if several_splits else variant: by_device
                    for (variant, split), by_device in sorted(by_key.items(), key=_variant_split_order)}
        devices = sorted({d for v in by_label.values() for d in v}, key=figures.device_sort_key)
        rows = []
        for label, by_device in by_label.items():
            cells = []
            for device in devices:
                group = by_device.get(device, [])
                cells.extend(_spread(_values(group, m.key), m.digits) for m in COMPARED)
            rows.append({"variant": label, "cells": cells})
        title = f"voice {voice}: “{text[:80]}{'…' if len(text) > 80 else ''}”"
        out.append({"title": title, "devices": devices, "rows": rows,
                    "figure": Markup(figures.comparison(by_label, COMPARED))})
    return out


def _variant_split_order(item) -> tuple[str, int]:
    (variant, split), _ = item
    return (variant, SPLIT_STRATEGIES.index(split) if split in SPLIT_STRATEGIES else len(SPLIT_STRATEGIES))


def _timelines(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per case and device, the round with the median TTFA among those whose playback can be replayed."""
    by_case: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rounds:
        by_case[(r["case"], r["device"])].append(r)
    out = []
    for (case, device), group in sorted(by_case.items(), key=lambda item: (figures.device_sort_key(item[0][1]), item[0][0])):
        playable = sorted((r for r in group if "_playback" in r), key=lambda r: r["time_to_first_audio"])
        if not playable:
            out.append({"case": case, "device": device, "figure": None})
            continue
        chosen = playable[len(playable) // 2]
        title = (f"{case} on {device}, round {chosen.get('round', '?')}: TTFA {chosen['time_to_first_audio']:.3f} s, "
                 f"{chosen['stall_count']} stall(s), gapless start {chosen['gapless_start_time']:.3f} s")
        out.append({"case": case, "device": device, "figure": Markup(figures.timeline(chosen, title))})
    return out


def _trend(runs: list[Run]) -> str | None:
    if len(runs) < 2:
        return None
    series: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for index, run in enumerate(runs):
        by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in run.rounds:
            by_case[f"{r['case']} ({r['device']})"].append(r)
        for name, group in by_case.items():
            series[name].append((index, *(statistics.median(_values(group, m.key) or [math.nan]) for m in COMPARED)))
    return Markup(figures.trend(series, [run.label for run in runs], COMPARED))


def render(runs: list[Run]) -> str:
    rounds = [r for run in runs for r in run.rounds]
    environment = jinja2.Environment(loader=jinja2.PackageLoader("pytest_kokoro.report", "templates"),
                                      autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.get_template("report.html.j2").render(
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        runs=runs, rounds=rounds, columns=[label for _, label, _ in SUMMARY_COLUMNS],
        compared=[m.label for m in COMPARED],
        summary=_summary_rows(rounds), comparisons=_comparisons(rounds), timelines=_timelines(rounds),
        trend=_trend(runs),
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
