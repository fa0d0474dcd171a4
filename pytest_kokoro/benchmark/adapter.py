"""pytest-benchmark, fed with the harness's own timings.

One JSON builder (``benchmark_entries``) serves both the single-process run (pytest-benchmark writes the
inference-time entry, we add RTF and TTFA) and the pytest-xdist merge (where pytest-benchmark is off and we write all
three). ``ReplayClock`` makes pytest-benchmark's stats the device's numbers, never the host's wall time.
"""

from __future__ import annotations

import itertools
import statistics
from typing import Any

from pytest_kokoro.core.metric_table import METRICS as TABLE
from pytest_kokoro.runner.records import CaseRecord

# (result key, metric name in the entry's group/name suffix; None for the case's own entry), from the metric table:
# the case's own entry first (pytest-benchmark writes it in a single process), then an entry per further metric.
METRICS = (*((m.key, None) for m in TABLE if m.benchmark == "main"),
           *((m.key, m.short) for m in TABLE if m.benchmark == "entry"))
MAIN_KEY = METRICS[0][0]


def benchmark_stats(values: list[float], include_data: bool = True) -> dict[str, Any]:
    """A pytest-benchmark stats block over externally measured values (one iteration per round)."""
    from pytest_benchmark.stats import Stats

    stats = Stats()
    for value in values:
        stats.update(value)
    block = stats.as_dict()
    if include_data:
        block["data"] = stats.data
    block["iterations"] = 1
    return block


def benchmark_entries(record: CaseRecord, metrics=METRICS, include_data: bool = True) -> list[dict[str, Any]]:
    """pytest-benchmark entries for one case: inference time, then RTF and TTFA as entries of their own."""
    name = record.nodeid.rpartition("::")[2]
    device = record.results[0].get("device") if record.results else None
    entries = []
    for key, metric in metrics:
        suffix = f"::{metric}" if metric else ""
        entries.append({
            "group": metric, "name": name + suffix, "fullname": record.nodeid + suffix,
            "params": {"kokoro_case": record.case.id}, "param": record.case.id,
            "extra_info": {"case": record.case.id, "variant": record.case.variant, "voice": record.case.voice,
                           "text_id": record.case.text_id, "device": device, "metric": key},
            "options": {"disable_gc": False, "timer": "harness_clock", "min_rounds": len(record.results),
                        "max_time": 0, "min_time": 0, "warmup": False},
            "stats": benchmark_stats(record.values(key), include_data),
        })
    return entries


def add_metric_entries(records: dict[str, CaseRecord], output_json: dict[str, Any]) -> None:
    """Single process: RTF and TTFA entries beside each case's inference-time entry that pytest-benchmark wrote."""
    extra = []
    for entry in output_json.get("benchmarks", []):
        record = records.get(entry["fullname"])
        if record is None:
            continue
        for built in benchmark_entries(record, METRICS[1:], include_data="data" in entry["stats"]):
            extra.append({**entry, **built, "extra_info": {**entry["extra_info"], **built["extra_info"]}})
    output_json.setdefault("benchmarks", []).extend(extra)


class ReplayClock:
    """A pytest-benchmark timer that replays harness-measured durations: 0.0 when a round starts, the duration
    when it ends. So pytest-benchmark's stats are the device's numbers, never the host's wall time."""

    __name__ = "harness_clock"

    def __init__(self, durations: list[float]):
        self._ticks = iter(itertools.chain.from_iterable((0.0, d) for d in durations))

    def __call__(self) -> float:
        return next(self._ticks)


class _Unmeasured(Exception):
    pass


def mark_unmeasured(benchmark) -> None:
    """Use the fixture once with a failing target, so pytest-benchmark records an errored benchmark (left out of its
    JSON and tables) instead of warning that a failed or skipped case never used it."""

    def unmeasured() -> None:
        raise _Unmeasured

    try:
        benchmark.pedantic(unmeasured, rounds=1, iterations=1)
    except _Unmeasured:
        pass


def feed_benchmark(benchmark, record: CaseRecord) -> None:
    durations = record.values(MAIN_KEY)
    benchmark.extra_info.update({
        "case": record.case.id, "variant": record.case.variant, "voice": record.case.voice,
        "text_id": record.case.text_id, "unit": f"seconds of harness-measured {MAIN_KEY}",
        **{f"median_{short}": statistics.median(record.values(key)) for key, short in METRICS[1:]},
    })
    # Used even when pytest-benchmark is disabled (pytest-xdist): then it calls the target once and records nothing.
    benchmark._timer = ReplayClock(durations)  # pytest-benchmark reads its timer from here; see ReplayClock
    benchmark.pedantic(lambda: None, rounds=len(durations), iterations=1)
