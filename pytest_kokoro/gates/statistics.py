"""Regression gates: the statistics. A regression is a slowdown the data show to be beyond the threshold.

For one metric of one case, with threshold t (0.10 for 10%):

- stored baseline (unpaired): a one-sided Mann-Whitney U test that log(candidate) - log(1 + t) lies above
  log(baseline), i.e. the null hypothesis is "the candidate is at most t slower" (a shift of log(1 + t) on the log
  scale), not "the candidate is not slower at all". A real 8% slowdown can then never fail a 10% gate, however
  many rounds prove that it is 8%.
- A/B (paired, interleaved rounds): a one-sided Wilcoxon signed-rank test that the per-pair differences
  log(candidate_i) - log(baseline_i) - log(1 + t) lie above zero.
- Improvements are the mirror image (the baseline at least t slower than the candidate); they are reported, never
  failed.

All the verdicts of a run (every case × gated metric) are one family, corrected together with Holm's step-down
method, so the family-wise false-alarm rate of a run is at most alpha whatever its number of cases.

The p-values come from scipy.stats (mannwhitneyu, wilcoxon) rather than code of our own: exact distributions where
they are exact (no ties), tie-corrected normal approximations otherwise, kept and tested by scipy's maintainers. The
functions take arrays with the rounds on the last axis, so tools/gate_simulation.py judges thousands of simulated
runs in one call with the very code a run uses.

Plain module: no pytest imports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

# Exact Mann-Whitney distributions are cheap up to here (scipy counts them, it does not enumerate).
EXACT_MAX_ROUNDS = 50
MIN_ROUNDS = 3


def _log_values(name: str, values) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.shape[-1] == 0:
        raise ValueError(f"{name}: no values")
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"{name} values must be positive finite numbers (timings); got {np.ravel(array)[:3]}")
    return np.log(array)


def _has_ties(*arrays: np.ndarray) -> bool:
    joined = np.concatenate([np.broadcast_to(a, a.shape) for a in arrays], axis=-1)
    ordered = np.sort(joined, axis=-1)
    return bool(np.any(ordered[..., 1:] == ordered[..., :-1]))


def unpaired_p(slower, faster, threshold: float) -> np.ndarray:
    """One-sided p that ``slower`` is more than ``threshold`` slower than ``faster`` (unpaired rounds).

    Mann-Whitney U of log(slower) - log(1 + threshold) against log(faster), alternative "greater"; exact when the
    shifted values have no ties and a side has at most EXACT_MAX_ROUNDS values, else the normal approximation with
    tie and continuity corrections. Rounds on the last axis; leading axes are independent comparisons.
    """
    shifted = _log_values("candidate", slower) - math.log1p(threshold)
    other = _log_values("baseline", faster)
    exact = max(shifted.shape[-1], other.shape[-1]) <= EXACT_MAX_ROUNDS and not _has_ties(shifted, other)
    return stats.mannwhitneyu(shifted, other, alternative="greater", axis=-1,
                              method="exact" if exact else "asymptotic").pvalue


def paired_p(slower, faster, threshold: float) -> np.ndarray:
    """One-sided p that, pair by pair, ``slower`` is more than ``threshold`` slower than ``faster``.

    Wilcoxon signed-rank of log(slower_i) - log(faster_i) - log(1 + threshold), alternative "greater", zeros
    dropped (Wilcoxon's rule), scipy's "auto" method: exact without ties or zeros (up to 50 pairs), an exact
    permutation distribution with ties up to 13 pairs, the normal approximation otherwise.
    """
    slow, fast = _log_values("candidate", slower), _log_values("baseline", faster)
    if slow.shape != fast.shape:
        raise ValueError(f"paired rounds need as many baseline as candidate values, got {fast.shape[-1]} and "
                         f"{slow.shape[-1]}")
    differences = slow - fast - math.log1p(threshold)
    return stats.wilcoxon(differences, alternative="greater", zero_method="wilcox", axis=-1).pvalue


def smallest_p(rounds: int, paired: bool, baseline_rounds: int | None = None) -> float:
    """The smallest p a gate can ever reach: every pair's sign the same (1 / 2^n), or every candidate round beyond
    every baseline round (1 / C(m + n, m); ``baseline_rounds`` defaults to as many as the candidate's)."""
    if paired:
        return 2.0**-rounds
    return 1 / math.comb(rounds + (rounds if baseline_rounds is None else baseline_rounds), rounds)


def rounds_needed(alpha: float, family_size: int, paired: bool) -> int:
    """Fewest rounds per side (at least MIN_ROUNDS) with which a verdict can pass Holm's first step, p < alpha / K.

    Fewer, and no regression could ever fail the run: the gate would be a silent pass.
    """
    level = alpha / max(1, family_size)
    rounds = MIN_ROUNDS
    while smallest_p(rounds, paired) >= level:
        rounds += 1
    return rounds


def holm(p_values: Sequence[float], alpha: float, family_size: int | None = None) -> list[bool]:
    """Holm's step-down: which hypotheses are rejected, family-wise error at most alpha.

    ``family_size`` may exceed len(p_values) when only a share of the family is judged here (a pytest-xdist worker):
    the step-down then uses the whole family's size and rejects a subset of what Holm over the whole family would,
    so the family-wise error stays at most alpha.
    """
    size = len(p_values) if family_size is None else family_size
    if size < len(p_values):
        raise ValueError(f"family size {size} is smaller than the {len(p_values)} p-values judged")
    rejected = [False] * len(p_values)
    for step, index in enumerate(sorted(range(len(p_values)), key=lambda i: p_values[i])):
        if not p_values[index] < alpha / (size - step):
            break
        rejected[index] = True
    return rejected


def holm_batch(p_values: np.ndarray, alpha: float) -> np.ndarray:
    """Holm over the last axis, for many families at once (the simulation): a boolean array like ``p_values``."""
    p = np.asarray(p_values, dtype=float)
    size = p.shape[-1]
    order = np.argsort(p, axis=-1)
    ordered = np.take_along_axis(p, order, axis=-1)
    passes = ordered < alpha / (size - np.arange(size))
    steps_passed = np.cumprod(passes, axis=-1).astype(bool)
    rejected = np.zeros_like(steps_passed)
    np.put_along_axis(rejected, order, steps_passed, axis=-1)
    return rejected


def both_measurements(first_p, second_p):
    """The p of "regressed in both measurements": the larger of the two (an intersection-union test, which is
    level alpha when each test is), so a metric that regresses only once never counts."""
    return np.maximum(first_p, second_p)


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) confidence interval of a binomial proportion, from scipy."""
    interval = stats.binomtest(successes, trials).proportion_ci(confidence_level=confidence, method="exact")
    return float(interval.low), float(interval.high)


def median_ratio_interval(baseline: Sequence[float], candidate: Sequence[float],
                          confidence: float = 0.95) -> tuple[float, float, float]:
    """The median of the per-pair ratios candidate/baseline, and a distribution-free interval for it: the order
    statistics of the log-ratios whose ranks the binomial(n, 1/2) distribution puts around the median (the sign
    test's interval). Pairs are (baseline[i], candidate[i]), measured back to back. With an A/A run (the same
    harness on both arms) an interval that excludes 1 is a bias of the setup, not of the code."""
    if len(baseline) != len(candidate) or not baseline:
        raise ValueError(f"need as many baseline as candidate values, at least one; got {len(baseline)} and "
                         f"{len(candidate)}")
    logs = np.sort(_log_values("candidate", candidate) - _log_values("baseline", baseline))
    n = len(logs)
    tail = (1 - confidence) / 2
    # The largest j (1-based) with P(B <= j - 1) <= tail, B ~ binomial(n, 1/2): [X_(j), X_(n+1-j)] then covers the
    # median with probability at least ``confidence``. None such (too few pairs): the interval is unbounded.
    j = 0
    while j + 1 <= n // 2 and stats.binom.cdf(j, n, 0.5) <= tail:
        j += 1
    if j == 0:
        return float(math.exp(np.median(logs))), 0.0, math.inf
    return float(math.exp(np.median(logs))), float(math.exp(logs[j - 1])), float(math.exp(logs[n - j]))
