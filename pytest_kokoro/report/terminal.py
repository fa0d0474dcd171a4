"""The summary table printed at the end of a run."""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from pytest_kokoro.runner.records import CaseRecord


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summary_lines(records: Iterable[CaseRecord], device_label: str, simulated: bool = False) -> list[str]:
    records = [r for r in records if r.results]
    if not records:
        return []
    header = ("case", "rounds", "TTFA s", "RTF", "inference s", "load s", "peak GiB", "chunks")
    rows = []
    for record in records:
        rows.append((
            record.case.id,
            str(len(record.results)),
            f"{_median(record.values('time_to_first_audio')):.3f}",
            f"{_median(record.values('real_time_factor')):.3f}",
            f"{_median(record.values('inference_time')):.3f}",
            f"{max(record.values('model_load_time')):.3f}",
            f"{max(record.values('peak_memory_gb')):.3f}",
            str(record.results[-1]["chunk_count"]),
        ))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) if i == 0 else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths)))

    title = f"Kokoro benchmark on {device_label} (medians over rounds; load = cold load, peak = max)"
    if simulated:
        title += " -- SIMULATED engine: these numbers test the harness, they are not Kokoro measurements"
    return [title, line(header), *(line(row) for row in rows)]
