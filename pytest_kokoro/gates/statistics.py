"""Regression gates: fail only for a real regression, never on noise.

A metric regresses when its median grew by more than the threshold AND a one-sided Mann-Whitney U test over the
rounds says the growth is significant (the rule asv uses). Improvements are reported with the mirrored test and
never fail. Absolute budgets (``kokoro_budget(rtf=0.5)``) are a separate, plain check on medians.

Plain module: no pytest imports, so the plugin, the CLI and the tests share one implementation.
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# Short metric names used in option strings, markers and baselines, and the result key each one reads.
METRIC_RESULT_KEYS: dict[str, str] = {
    "rtf": "real_time_factor",
    "ttfa": "time_to_first_audio",
    "inference": "inference_time",
}
# Not a gated metric: the seconds a fixed CPU workload took right before each round (pytest_kokoro/calibration.py).
# Stored with the metrics so gates can divide by it and tell a busier machine from slower code.
CALIBRATION = "calibration"
STORED_RESULT_KEYS: dict[str, str] = {**METRIC_RESULT_KEYS, CALIBRATION: "calibration_time"}
DEFAULT_THRESHOLDS: dict[str, float] = {"rtf": 0.10, "ttfa": 0.15}
DEFAULT_ALPHA = 0.01
# Below three rounds a median is one or two numbers and no rank test can say anything.
MIN_ROUNDS = 3
# Exact permutation p-values are cheap up to here (at most C(40, 20) arrangements, counted, not enumerated).
EXACT_MAX_ROUNDS = 20

REGRESSION = "regression"
IMPROVEMENT = "improvement"
UNCHANGED = "unchanged"
INSUFFICIENT_DATA = "insufficient_data"


# --------------------------------------------------------------------------------------------------------------
# Mann-Whitney U
# --------------------------------------------------------------------------------------------------------------


def mann_whitney_u_greater(candidate: Sequence[float], baseline: Sequence[float]) -> tuple[float, float]:
    """One-sided Mann-Whitney U test that ``candidate`` is stochastically greater (slower) than ``baseline``.

    Returns (U, p) where U counts the (candidate, baseline) pairs with candidate > baseline, ties counting one
    half. p is exact (permutation distribution of U) when both sides have at most EXACT_MAX_ROUNDS values and no
    value is tied; otherwise it is the normal approximation with tie and continuity corrections (as
    scipy.stats.mannwhitneyu(..., alternative="greater", method="asymptotic") computes it).
    """
    _require_values("candidate", candidate)
    _require_values("baseline", baseline)
    m, n = len(candidate), len(baseline)
    ranks = _average_ranks(list(candidate) + list(baseline))
    u = sum(ranks[:m]) - m * (m + 1) / 2
    has_ties = len(set(candidate) | set(baseline)) < m + n
    if m <= EXACT_MAX_ROUNDS and n <= EXACT_MAX_ROUNDS and not has_ties:
        return u, _exact_p_greater(round(u), m, n)
    return u, _normal_p_greater(u, m, n, _tie_sizes(list(candidate) + list(baseline)))


def _require_values(side: str, values: Sequence[float]) -> None:
    if len(values) == 0:
        raise ValueError(f"Mann-Whitney U needs at least one {side} value, got none")
    bad = [v for v in values if not math.isfinite(v)]
    if bad:
        raise ValueError(f"{side} values must be finite numbers; got {bad[:3]}")


def _average_ranks(values: list[float]) -> list[float]:
    """1-based ranks; tied values share the mean of the ranks they span."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        shared_rank = (start + end) / 2 + 1
        for position in range(start, end + 1):
            ranks[order[position]] = shared_rank
        start = end + 1
    return ranks


def _tie_sizes(values: list[float]) -> list[int]:
    counts: dict[float, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return [count for count in counts.values() if count > 1]


def exact_u_counts(m: int, n: int) -> list[int]:
    """How many of the C(m+n, m) equally likely arrangements give U = 0, 1, ..., m*n (no ties).

    Recurrence on the largest of the m+n values: if it is a candidate it beats all n baseline values
    (U shifts by n, one candidate fewer); if it is a baseline value it adds nothing (one baseline value fewer).
    """
    # counts_by_n[j] holds the distribution for (i candidates, j baseline values) as i grows to m.
    counts_by_n = [[1] for _ in range(n + 1)]  # i = 0: U is always 0
    for i in range(1, m + 1):
        row = [[1]]  # j = 0: U is always 0
        for j in range(1, n + 1):
            counts = [0] * (i * j + 1)
            for u, ways in enumerate(counts_by_n[j]):  # largest value is a candidate
                counts[u + j] += ways
            for u, ways in enumerate(row[j - 1]):  # largest value is a baseline value
                counts[u] += ways
            row.append(counts)
        counts_by_n = row
    return counts_by_n[n]


def _exact_p_greater(u: int, m: int, n: int) -> float:
    counts = exact_u_counts(m, n)
    return sum(counts[u:]) / math.comb(m + n, m)


def _normal_p_greater(u: float, m: int, n: int, tie_sizes: list[int]) -> float:
    total = m + n
    tie_term = sum(t**3 - t for t in tie_sizes) / (total * (total - 1)) if total > 1 else 0.0
    variance = m * n / 12 * ((total + 1) - tie_term)
    if variance <= 0:
        # Every value is the same: no evidence either way.
        return 1.0
    z = (u - m * n / 2 - 0.5) / math.sqrt(variance)
    return min(1.0, 0.5 * math.erfc(z / math.sqrt(2)))


def smallest_possible_p(m: int, n: int) -> float:
    """The best p an exact one-sided test can reach with m and n untied values: one arrangement of C(m+n, m)."""
    return 1 / math.comb(m + n, m)


def rounds_needed(alpha: float) -> int:
    """Fewest rounds per side (at least MIN_ROUNDS) with which p < alpha is reachable at all."""
    rounds = MIN_ROUNDS
    while smallest_possible_p(rounds, rounds) >= alpha:
        rounds += 1
    return rounds


# --------------------------------------------------------------------------------------------------------------
# Wilcoxon signed-rank, for interleaved A/B rounds
# --------------------------------------------------------------------------------------------------------------

PAIRED_TEST = "Wilcoxon signed-rank"


def wilcoxon_signed_rank_greater(differences: Sequence[float]) -> tuple[float, float]:
    """One-sided Wilcoxon signed-rank test that ``differences`` lie above zero; returns (W+, p).

    Zeros are dropped (Wilcoxon's rule). Exact distribution of W+ (all 2^n sign patterns, counted by dynamic
    programming) when the |differences| have no ties and n ≤ 25; normal approximation with tie and continuity
    correction otherwise. For interleaved rounds the pairs share the machine's state, so this test sees a shift
    that a load swing across the run would hide from an unpaired test.
    """
    _require_values("differences", differences)
    nonzero = [d for d in differences if d != 0]
    n = len(nonzero)
    if n == 0:
        return 0.0, 1.0
    ranks = _average_ranks([abs(d) for d in nonzero])
    w_plus = sum(rank for rank, d in zip(ranks, nonzero) if d > 0)
    ties = _tie_sizes([abs(d) for d in nonzero])
    if n <= 25 and all(t == 1 for t in ties):
        counts = _signed_rank_counts(n)
        at_least = sum(counts[int(round(w_plus)):])
        return w_plus, at_least / 2**n
    mean = n * (n + 1) / 4
    variance = n * (n + 1) * (2 * n + 1) / 24 - sum(t**3 - t for t in ties) / 48
    if variance <= 0:
        return w_plus, 1.0
    z = (w_plus - mean - 0.5) / math.sqrt(variance)
    return w_plus, min(1.0, 0.5 * math.erfc(z / math.sqrt(2)))


def _signed_rank_counts(n: int) -> list[int]:
    """counts[w] = how many of the 2^n sign patterns of ranks 1..n give W+ = w."""
    counts = [1] + [0] * (n * (n + 1) // 2)
    for rank in range(1, n + 1):
        for w in range(len(counts) - 1, rank - 1, -1):
            counts[w] += counts[w - rank]
    return counts


def paired_rounds_needed(alpha: float) -> int:
    """Fewest pairs (at least MIN_ROUNDS) with which a one-sided signed-rank p < alpha is reachable: 2^-n < alpha."""
    pairs = MIN_ROUNDS
    while 2.0**-pairs >= alpha:
        pairs += 1
    return pairs


def compare_paired(metric: str, baseline_values: Sequence[float], candidate_values: Sequence[float],
                   threshold: float, alpha: float = DEFAULT_ALPHA) -> Verdict:
    """Judge interleaved rounds: pair i is (baseline_values[i], candidate_values[i]), measured back to back.

    ratio = the median of the per-pair ratios candidate/baseline; the test is a one-sided Wilcoxon signed-rank on
    the log ratios. regression: ratio > 1 + threshold and p < alpha; improvement: mirrored; insufficient_data: too
    few pairs for p < alpha to be reachable (7 at alpha 0.01).
    """
    if len(baseline_values) != len(candidate_values):
        raise ValueError(f"paired rounds need as many baseline as candidate values, got {len(baseline_values)} "
                         f"and {len(candidate_values)}")
    n = len(candidate_values)
    candidate_median = statistics.median(candidate_values) if n else None
    baseline_median = statistics.median(baseline_values) if n else None

    def verdict(kind: str, ratio: float | None = None, p: float | None = None) -> Verdict:
        return Verdict(metric, baseline_median, candidate_median, ratio, p, kind, threshold, alpha, n, n, PAIRED_TEST)

    if n < paired_rounds_needed(alpha):
        return verdict(INSUFFICIENT_DATA)
    if any(b <= 0 for b in baseline_values) or any(c <= 0 for c in candidate_values):
        raise ValueError(f"{metric}: paired comparison needs positive values")
    log_ratios = [math.log(c / b) for b, c in zip(baseline_values, candidate_values)]
    ratio = math.exp(statistics.median(log_ratios))
    if ratio >= 1:
        _, p = wilcoxon_signed_rank_greater(log_ratios)
        return verdict(REGRESSION if ratio > 1 + threshold and p < alpha else UNCHANGED, ratio, p)
    _, p = wilcoxon_signed_rank_greater([-d for d in log_ratios])
    return verdict(IMPROVEMENT if ratio < 1 / (1 + threshold) and p < alpha else UNCHANGED, ratio, p)


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
        parts = [f"{metric}={_percent(threshold)}" for metric, threshold in self.thresholds.items()]
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


# --------------------------------------------------------------------------------------------------------------
# Comparing a run against a baseline
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    metric: str
    baseline_median: float | None
    candidate_median: float | None
    ratio: float | None  # candidate median / baseline median
    p: float | None  # one-sided, in the direction the medians moved
    verdict: str  # REGRESSION, IMPROVEMENT, UNCHANGED or INSUFFICIENT_DATA
    threshold: float
    alpha: float
    baseline_rounds: int
    candidate_rounds: int
    test: str = "Mann-Whitney"

    @property
    def is_regression(self) -> bool:
        return self.verdict == REGRESSION

    def message(self) -> str:
        if self.verdict == INSUFFICIENT_DATA:
            return self._insufficient_message()
        medians = f"median {self.candidate_median:.3g} vs baseline {self.baseline_median:.3g}"
        change = f"×{self.ratio:.2f}, {(self.ratio - 1) * 100:+.1f}%"
        threshold = _percent(self.threshold)
        test = f"{self.test} p={self.p:.2g}"
        if self.verdict == REGRESSION:
            return f"{self.metric} regressed: {medians} ({change} > {threshold} threshold, {test} < {self.alpha:g})"
        if self.verdict == IMPROVEMENT:
            return (
                f"{self.metric} improved: {medians} ({change}, beyond the {threshold} threshold, "
                f"{test} < {self.alpha:g})"
            )
        if _beyond_threshold(self.ratio, self.threshold):
            return (
                f"{self.metric} unchanged: {medians} ({change} is beyond the {threshold} threshold but {test} "
                f"≥ {self.alpha:g} over {self.candidate_rounds} vs {self.baseline_rounds} rounds: "
                f"not distinguishable from noise; more rounds would tell)"
            )
        return f"{self.metric} unchanged: {medians} ({change}, within the {threshold} threshold, {test})"

    def _insufficient_message(self) -> str:
        needed = paired_rounds_needed(self.alpha) if self.test == PAIRED_TEST else rounds_needed(self.alpha)
        return (
            f"{self.metric}: insufficient data: the baseline has {self.baseline_rounds} rounds and this run "
            f"{self.candidate_rounds}; a {self.test} test at alpha={self.alpha:g} needs at least {needed} "
            f"rounds on each side to be able to show anything"
        )


def compare(
    metric: str,
    baseline_values: Sequence[float],
    candidate_values: Sequence[float],
    threshold: float,
    alpha: float = DEFAULT_ALPHA,
) -> Verdict:
    """Judge ``candidate_values`` (this run's rounds) against ``baseline_values`` for one metric.

    regression: ratio > 1 + threshold and the one-sided test "candidate greater" has p < alpha.
    improvement: ratio < 1 / (1 + threshold) and the mirrored test has p < alpha.
    insufficient_data: fewer than MIN_ROUNDS on a side, or so few rounds that p < alpha is unreachable
    (e.g. 4 vs 4 rounds cannot go below p = 1/70 > 0.01), so "unchanged" would be a claim we cannot make.
    """
    if threshold < 0 or not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite fraction ≥ 0 (0.10 for 10%), got {threshold!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    m, n = len(candidate_values), len(baseline_values)
    candidate_median = statistics.median(candidate_values) if m else None
    baseline_median = statistics.median(baseline_values) if n else None

    def verdict(kind: str, ratio: float | None = None, p: float | None = None) -> Verdict:
        return Verdict(metric, baseline_median, candidate_median, ratio, p, kind, threshold, alpha, n, m)

    if min(m, n) < MIN_ROUNDS or smallest_possible_p(m, n) >= alpha:
        return verdict(INSUFFICIENT_DATA)
    ratio = _ratio(candidate_median, baseline_median)
    if ratio >= 1:
        _, p = mann_whitney_u_greater(candidate_values, baseline_values)
        significant_regression = ratio > 1 + threshold and p < alpha
        return verdict(REGRESSION if significant_regression else UNCHANGED, ratio, p)
    _, p = mann_whitney_u_greater(baseline_values, candidate_values)
    significant_improvement = ratio < 1 / (1 + threshold) and p < alpha
    return verdict(IMPROVEMENT if significant_improvement else UNCHANGED, ratio, p)


def _ratio(candidate_median: float, baseline_median: float) -> float:
    if baseline_median == 0:
        # A zero baseline (e.g. an instant cached result) makes any growth infinite, and no growth no change.
        return 1.0 if candidate_median == 0 else math.inf
    return candidate_median / baseline_median


def _beyond_threshold(ratio: float, threshold: float) -> bool:
    return ratio > 1 + threshold or ratio < 1 / (1 + threshold)


def _percent(fraction: float) -> str:
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
    """Per-round ``metric`` divided by that round's calibration time; None when the rounds lack calibration."""
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
