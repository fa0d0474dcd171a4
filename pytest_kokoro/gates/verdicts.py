"""One metric of one case against its baseline: a Comparison per measurement, a Verdict once it is judged.

A Comparison holds what one measurement shows: the medians, the ratio, and two one-sided p-values, one for "slower
by more than the threshold" (a regression) and one for "faster by more than the threshold" (an improvement). A
Verdict judges the p of "regressed in both measurements" (the first measurement and its re-check) at the level
Holm's procedure gives it within the run's family of verdicts (gates/keeper.py).

Plain module: no pytest imports.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_kokoro.core.metric_table import HIGHER
from pytest_kokoro.gates.spec import better, percent
from pytest_kokoro.gates.statistics import both_measurements, paired_p, unpaired_p

UNPAIRED_TEST = "Mann-Whitney"
PAIRED_TEST = "Wilcoxon signed-rank"

REGRESSION = "regression"
IMPROVEMENT = "improvement"
UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Comparison:
    """One measurement of one metric against the baseline."""

    metric: str
    baseline_median: float
    candidate_median: float
    ratio: float  # unpaired: candidate median / baseline median; paired: the median of the per-pair ratios
    p_regression: float  # one-sided: the candidate is worse by more than ``threshold`` (slower, for a time)
    p_improvement: float  # one-sided: the candidate is better by more than ``threshold``
    threshold: float
    baseline_rounds: int
    candidate_rounds: int
    test: str

    @property
    def paired(self) -> bool:
        return self.test == PAIRED_TEST

    @property
    def ratio_meaning(self) -> str:
        return "median of the per-pair ratios" if self.paired else "ratio of the medians"


def _oriented(metric: str, p_larger: float, p_smaller: float) -> tuple[float, float]:
    """(p_regression, p_improvement) from "candidate larger" and "candidate smaller" p-values: a larger value is
    worse for a metric where lower is better (times), better for one where higher is better (a quality score)."""
    return (p_smaller, p_larger) if better(metric) == HIGHER else (p_larger, p_smaller)


def _check(metric: str, threshold: float, baseline: Sequence[float], candidate: Sequence[float]) -> None:
    if threshold < 0 or not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite fraction ≥ 0 (0.10 for 10%), got {threshold!r}")
    for side, values in (("baseline", baseline), ("candidate", candidate)):
        if not values:
            raise ValueError(f"{metric}: the {side} has no values")


def compare_unpaired(metric: str, baseline: Sequence[float], candidate: Sequence[float],
                     threshold: float) -> Comparison:
    """This run's rounds against rounds measured at another time (a stored baseline)."""
    _check(metric, threshold, baseline, candidate)
    base_median, cand_median = statistics.median(baseline), statistics.median(candidate)
    p_regression, p_improvement = _oriented(metric, float(unpaired_p(candidate, baseline, threshold)),
                                            float(unpaired_p(baseline, candidate, threshold)))
    return Comparison(metric, base_median, cand_median, cand_median / base_median, p_regression, p_improvement,
                      threshold, len(baseline), len(candidate), UNPAIRED_TEST)


def compare_paired(metric: str, baseline: Sequence[float], candidate: Sequence[float], threshold: float) -> Comparison:
    """Interleaved rounds: pair i is (baseline[i], candidate[i]), measured back to back in the same run."""
    _check(metric, threshold, baseline, candidate)
    if len(baseline) != len(candidate):
        raise ValueError(f"{metric}: paired rounds need as many baseline as candidate values, got {len(baseline)} "
                         f"and {len(candidate)}")
    ratio = math.exp(statistics.median(math.log(c / b) for b, c in zip(baseline, candidate)))
    p_regression, p_improvement = _oriented(metric, float(paired_p(candidate, baseline, threshold)),
                                            float(paired_p(baseline, candidate, threshold)))
    return Comparison(metric, statistics.median(baseline), statistics.median(candidate), ratio, p_regression,
                      p_improvement, threshold, len(baseline), len(candidate), PAIRED_TEST)


@dataclass(frozen=True)
class Verdict:
    """A judged metric of a case. ``p`` is the p of "regressed in both measurements" (the first measurement's alone
    when it was not re-checked: then it was at least alpha and could not count anyway); ``level`` is what p had to
    be below, alpha / (family size) in the case itself, Holm's later steps at the end of the run."""

    first: Comparison
    recheck: Comparison | None
    verdict: str
    level: float
    alpha: float
    family_size: int
    step_down: bool = False  # rejected by a later Holm step, at the end of the run

    @property
    def metric(self) -> str:
        return self.first.metric

    @property
    def p(self) -> float:
        if self.recheck is None:
            return self.first.p_regression
        return float(both_measurements(self.first.p_regression, self.recheck.p_regression))

    @property
    def is_regression(self) -> bool:
        return self.verdict == REGRESSION

    def message(self) -> str:
        shown = self.recheck or self.first
        medians = f"median {shown.candidate_median:.3g} vs baseline {shown.baseline_median:.3g}"
        change = f"{shown.ratio_meaning} ×{shown.ratio:.2f}, {(shown.ratio - 1) * 100:+.1f}%"
        threshold = percent(shown.threshold)
        worse, improves = (("lower", "higher") if better(self.metric) == HIGHER else ("slower", "faster"))
        level = (f"{self.level:.2g} (alpha {self.alpha:g}, Holm over {self.family_size} verdicts)"
                 if self.family_size > 1 else f"{self.level:g}")
        if self.verdict == REGRESSION:
            both = (f"; both measurements: p={self.first.p_regression:.2g} and {self.recheck.p_regression:.2g}"
                    if self.recheck else "")
            when = " at the end of the run (Holm step-down)" if self.step_down else ""
            return (f"{self.metric} regressed{when}: {medians} ({change}): more than {threshold} {worse}, "
                    f"{shown.test} p={self.p:.2g} < {level}{both}")
        if self.verdict == IMPROVEMENT:
            return (f"{self.metric} improved: {medians} ({change}): more than {threshold} {improves}, "
                    f"{shown.test} p={self.first.p_improvement:.2g} < {level}")
        recheck = ""
        if self.recheck is not None:
            recheck = (f"; p of the first measurement {self.first.p_regression:.2g}, of the re-check "
                       f"{self.recheck.p_regression:.2g} (a regression must show in both)")
        return (f"{self.metric} unchanged: {medians} ({change}): not shown to be more than {threshold} {worse} "
                f"({shown.test} p={self.p:.2g}, needs < {level}) or {improves} (p={shown.p_improvement:.2g}){recheck}")
