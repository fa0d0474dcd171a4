"""What a gate reads and how it is asked for: the gated metrics and their result keys, the option string
"rtf=10%,ttfa=15%,alpha=0.01", the per-round values of a case, and absolute budgets on medians.

Plain module: no pytest imports.
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pytest_kokoro.core.metric_table import BY_SHORT, default_thresholds, gateable

# Short metric names used in option strings, markers and baselines, and the result key each one reads: the gateable
# rows of the metric table (core/metric_table.py).
METRIC_RESULT_KEYS: dict[str, str] = {short: metric.key for short, metric in gateable().items()}
# Not a gated metric: the seconds a fixed CPU workload took right before each round (pytest_kokoro/core/calibration.py).
# Stored with the metrics so gates can divide by it and tell a busier machine from slower code.
CALIBRATION = "calibration"
STORED_RESULT_KEYS: dict[str, str] = {**METRIC_RESULT_KEYS, CALIBRATION: "calibration_time"}
DEFAULT_THRESHOLDS: dict[str, float] = default_thresholds()


def better(metric: str) -> str:
    """"lower" or "higher": which way ``metric`` (a short name, or "NAME/calibration") improves."""
    return BY_SHORT[metric.split("/")[0]].better


DEFAULT_ALPHA = 0.01


# --------------------------------------------------------------------------------------------------------------
# Gate spec: the option string "rtf=10%,ttfa=15%,alpha=0.01"
# --------------------------------------------------------------------------------------------------------------


class GateSpecError(argparse.ArgumentTypeError, ValueError):
    """A bad gate spec string.

    An ArgumentTypeError so that argparse (and pytest's option parser) shows this message instead of a bare
    "invalid parse_gate_spec value"; a ValueError for every other caller.
    """


@dataclass(frozen=True)
class GateSpec:
    """Relative thresholds (fractions: 0.10 means 10%) per gated metric, and the significance level.

    A metric missing from ``thresholds`` is not gated.
    """

    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    alpha: float = DEFAULT_ALPHA

    def __str__(self) -> str:
        """The spec as an option string that parses back to this spec."""
        parts = [f"{metric}={percent(threshold)}" for metric, threshold in self.thresholds.items()]
        # A default metric left out would come back gated at its default: say "off" explicitly.
        parts += [f"{metric}=off" for metric in DEFAULT_THRESHOLDS if metric not in self.thresholds]
        return ",".join([*parts, f"alpha={self.alpha:g}"])


_SPEC_EXAMPLE = "rtf=10%,ttfa=15%,alpha=0.01"


def parse_gate_spec(text: str) -> GateSpec:
    """Parse ``rtf=10%,ttfa=15%,alpha=0.01``; usable as an argparse ``type=``.

    Metrics not named keep their default threshold; ``metric=off`` stops gating it.
    """
    items = [item.strip() for item in text.split(",")]
    if not text.strip():
        raise GateSpecError(f"empty gate spec; expected something like {_SPEC_EXAMPLE!r}")
    thresholds = dict(DEFAULT_THRESHOLDS)
    alpha = DEFAULT_ALPHA
    seen: set[str] = set()
    for item in items:
        key, value = _split_item(item, text)
        if key in seen:
            raise GateSpecError(f"{key!r} is given twice in gate spec {text!r}")
        seen.add(key)
        if key == "alpha":
            alpha = _parse_alpha(value)
        elif value.lower() == "off":
            thresholds.pop(key, None)
        else:
            thresholds[key] = _parse_threshold(key, value)
    return GateSpec(thresholds=thresholds, alpha=alpha)


def _split_item(item: str, text: str) -> tuple[str, str]:
    key, equals, value = item.partition("=")
    key, value = key.strip().lower(), value.strip()
    if not item:
        raise GateSpecError(f"empty entry in gate spec {text!r} (stray comma?); expected {_SPEC_EXAMPLE!r}")
    if not equals or not value:
        raise GateSpecError(f"{item!r} is not metric=threshold; expected something like {_SPEC_EXAMPLE!r}")
    if key != "alpha" and key not in METRIC_RESULT_KEYS:
        known = ", ".join(sorted(METRIC_RESULT_KEYS))
        raise GateSpecError(f"unknown metric {key!r} in gate spec; known metrics: {known} (and alpha)")
    return key, value


def _parse_threshold(metric: str, value: str) -> float:
    # Percent only: a bare "0.1" could mean 10% or 0.1%, and guessing wrong silently loosens a gate.
    if not value.endswith("%"):
        raise GateSpecError(f"write the {metric} threshold as a percentage, e.g. {metric}=10% (got {value!r})")
    number = _parse_number(value[:-1], f"{metric} threshold")
    if number < 0:
        raise GateSpecError(f"the {metric} threshold must not be negative (got {value!r})")
    return number / 100


def _parse_alpha(value: str) -> float:
    alpha = _parse_number(value[:-1], "alpha") / 100 if value.endswith("%") else _parse_number(value, "alpha")
    if not 0 < alpha < 1:
        raise GateSpecError(f"alpha is a significance level between 0 and 1, e.g. alpha=0.01 (got {value!r})")
    return alpha


def _parse_number(text: str, what: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise GateSpecError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(number):
        raise GateSpecError(f"{what} must be a finite number (got {text!r})")
    return number


def percent(fraction: float) -> str:
    return f"{fraction * 100:g}%"


# --------------------------------------------------------------------------------------------------------------
# Values from results, and absolute budgets
# --------------------------------------------------------------------------------------------------------------


def metric_values(rounds: Iterable[Mapping[str, object]]) -> dict[str, list[float]]:
    """Per-round values of each metric from one case's result dicts (``rtf`` from real_time_factor, ...)."""
    values: dict[str, list[float]] = {metric: [] for metric in STORED_RESULT_KEYS}
    for result in rounds:
        for metric, key in STORED_RESULT_KEYS.items():
            value = result.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values[metric].append(float(value))
    return values


def calibrated(values: Mapping[str, Sequence[float]], metric: str) -> list[float] | None:
    """Per-round ``metric`` divided by that round's calibration time; None when the rounds lack calibration, or
    the metric is no time (a machine's speed scales times, not a quality score)."""
    if not BY_SHORT[metric].timed:
        return None
    data, calibration = values.get(metric) or [], values.get(CALIBRATION) or []
    if not data or len(calibration) != len(data) or any(c <= 0 for c in calibration):
        return None
    return [value / seconds for value, seconds in zip(data, calibration)]


def check_budget(result_values: Mapping[str, Sequence[float]], budgets: Mapping[str, float]) -> list[str]:
    """Messages for every metric whose median is over its absolute budget; [] when all are within.

    A budgeted metric with no values is reported too: a budget that cannot be checked must not pass silently.
    """
    messages: list[str] = []
    for metric, budget in budgets.items():
        _check_budget_argument(metric, budget)
        values = result_values.get(metric) or []
        if not values:
            messages.append(f"{metric} has a budget of {budget:g} but no {metric} values were measured")
            continue
        median = statistics.median(values)
        if median > budget:
            messages.append(
                f"{metric} over budget: median {median:.3g} > {budget:g} "
                f"(over {len(values)} rounds, worst {max(values):.3g})"
            )
    return messages


def _check_budget_argument(metric: str, budget: float) -> None:
    if metric not in METRIC_RESULT_KEYS:
        known = ", ".join(sorted(METRIC_RESULT_KEYS))
        raise ValueError(f"unknown budget metric {metric!r}; known metrics: {known}")
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not math.isfinite(budget) or budget <= 0:
        raise ValueError(f"the {metric} budget must be a positive number, got {budget!r}")
