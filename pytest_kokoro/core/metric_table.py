"""The metric table: one row per metric a person reads or a gate judges, and everything the consumers need to know
about it. The gates (short names, thresholds, direction), the pytest-benchmark adapter (which metrics get an entry
of their own), the terminal summary and the HTML report (columns, units, how rounds are folded into one figure) all
read these rows; none of them lists a metric of its own. A new metric is one row here plus its result key
(core/schema.py, spec/result_keys.json, docs/results.md) and the harnesses that compute it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

LOWER, HIGHER = "lower", "higher"


@dataclass(frozen=True)
class Metric:
    key: str  # the result key each round carries
    short: str  # its name in --kokoro-gate, kokoro_budget markers, baselines and pytest-benchmark entry names
    label: str  # its column heading
    unit: str = ""  # "s", "GiB", or "" for a ratio or a count
    better: str = LOWER  # which way is better: a gate fails a move the other way
    gate: float | None = None  # gateable; the default threshold (a fraction), None when gated only on request
    gateable: bool = False
    fold: str = "median"  # how a case's rounds become one figure in the summary: median, max or last
    digits: int = 3  # decimals shown (0: a whole number)
    summary: bool = True  # a column of the terminal summary
    report: bool = True  # a column of the HTML report's summary table
    compare: bool = False  # compared across variants and devices in the report's tables and figures, and shown with
    # its spread (min-max over rounds) in the terminal summary
    benchmark: str | None = None  # "main": the case's pytest-benchmark entry; "entry": an entry of its own
    timed: bool = False  # a time, which a busier machine scales: gates may divide it by the calibration workload
    line: float | None = None  # a value the report draws across this metric's axes (RTF 1: real time)
    line_label: str = ""  # what that line means: the legend reads "RTF 1: real time"

    @property
    def heading(self) -> str:
        return f"{self.label} {self.unit}".strip()

    def folded(self, values: Sequence[float]) -> float:
        values = [v for v in values if v is not None]
        if not values:
            return math.nan
        if self.fold == "max":
            return max(values)
        if self.fold == "last":
            return values[-1]
        return statistics.median(values)

    def format(self, value: float) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        return f"{value:.{self.digits}f}" if self.digits else str(int(value))


METRICS: tuple[Metric, ...] = (
    Metric("time_to_first_audio", "ttfa", "TTFA", "s", gate=0.15, gateable=True, compare=True, benchmark="entry",
           timed=True),
    Metric("real_time_factor", "rtf", "RTF", gate=0.10, gateable=True, compare=True, benchmark="entry", timed=True,
           line=1.0, line_label="real time"),
    Metric("inference_time", "inference", "inference", "s", gateable=True, report=False, benchmark="main",
           timed=True),
    Metric("gapless_start_time", "gapless", "gapless start", "s", summary=False),
    Metric("stall_count", "stalls", "stalls", fold="median", digits=0, summary=False),
    Metric("playback_stall_time", "stall", "stall", "s", summary=False),
    Metric("model_load_time", "load", "load", "s", fold="max", report=False),
    Metric("peak_memory_gb", "peak", "peak", "GiB", fold="max"),
    Metric("chunk_count", "chunks", "chunks", fold="last", digits=0, report=False),
    # Audio quality (pytest_kokoro/quality, docs/quality.md): the share of the text's words the audio can be
    # aligned to. Higher is better; gated on request (--kokoro-gate intelligibility=10%), as each round already
    # fails by name when it falls below 0.5.
    Metric("quality_intelligibility", "intelligibility", "intelligibility", better=HIGHER, gateable=True,
           digits=2, compare=True),
)

BY_SHORT = {metric.short: metric for metric in METRICS}
BY_KEY = {metric.key: metric for metric in METRICS}


def gateable() -> dict[str, Metric]:
    """The gateable metrics by short name, in name order (the order of a gate spec and its verdicts)."""
    return {m.short: m for m in sorted(METRICS, key=lambda m: m.short) if m.gateable}


def default_thresholds() -> dict[str, float]:
    return {short: m.gate for short, m in gateable().items() if m.gate is not None}
