"""The gate statistics: the question the threshold asks, Holm over a run, the re-check, rounds that can decide.

The p-values are scipy.stats' own (pytest_kokoro/gates/statistics.py says why); these tests pin down what our
wrappers ask scipy, that the threshold is part of the null hypothesis, and the arithmetic that rests on scipy's exact
distributions (the smallest reachable p, hence the rounds a gate needs).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from pytest_kokoro.gates.statistics import (
    both_measurements,
    clopper_pearson,
    holm,
    holm_batch,
    paired_p,
    rounds_needed,
    smallest_p,
    unpaired_p,
)


def lognormal(rng, median, spread, size):
    return median * np.exp(rng.normal(0, spread, size))


@pytest.mark.parametrize("seed", range(20))
def test_unpaired_p_is_scipy_mann_whitney_on_the_shifted_logs_with_ties(seed):
    """Random samples with ties (values rounded to a coarse grid): our p is scipy's test of
    log(candidate) - log(1 + t) against log(baseline), whichever method it picks."""
    rng = np.random.default_rng(seed)
    m, n = rng.integers(3, 25, size=2)
    grid = 0.05
    candidate = np.round(lognormal(rng, 1.2, 0.1, m) / grid) * grid + grid
    baseline = np.round(lognormal(rng, 1.0, 0.1, n) / grid) * grid + grid
    threshold = 0.0 if seed % 2 else 0.1  # t = 0 keeps cross-sample ties after the shift
    shifted = np.log(candidate) - math.log1p(threshold)
    expected = stats.mannwhitneyu(shifted, np.log(baseline), alternative="greater", method="asymptotic").pvalue
    exact = stats.mannwhitneyu(shifted, np.log(baseline), alternative="greater", method="exact").pvalue
    ties = len(np.unique(np.concatenate([shifted, np.log(baseline)]))) < m + n
    assert unpaired_p(candidate, baseline, threshold) == pytest.approx(expected if ties else exact, rel=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_paired_p_is_scipy_wilcoxon_on_the_shifted_log_ratios_with_ties(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(5, 30))
    baseline = np.round(lognormal(rng, 1.0, 0.1, n), 2)
    candidate = np.round(baseline * np.exp(rng.normal(0.1, 0.05, n)), 2)
    threshold = 0.05
    differences = np.log(candidate) - np.log(baseline) - math.log1p(threshold)
    expected = stats.wilcoxon(differences, alternative="greater", zero_method="wilcox").pvalue
    assert paired_p(candidate, baseline, threshold) == pytest.approx(expected, rel=1e-9)


def test_unpaired_exact_p_matches_brute_force_enumeration():
    """Independent of scipy: count the equally likely splits of the pooled values."""
    candidate, baseline = [1.31, 1.22, 1.40, 1.19], [1.00, 1.12, 1.05, 1.21, 0.98]
    threshold = 0.1
    pooled = [math.log(c) - math.log1p(threshold) for c in candidate] + [math.log(b) for b in baseline]

    def u(first):
        return sum((x > y) + 0.5 * (x == y) for x in first for y in pooled if y not in first)

    observed = u(pooled[:4])
    splits = [u(list(chosen)) for chosen in itertools.combinations(pooled, 4)]
    assert unpaired_p(candidate, baseline, threshold) == pytest.approx(
        sum(s >= observed for s in splits) / len(splits))


def test_a_significant_slowdown_within_the_threshold_never_fails():
    """The issue's case: a real 8% slowdown, measured so precisely that 'slower at all' has p ~ 1e-10, is no
    evidence of a slowdown beyond 10%: its p for that question is near 1."""
    rng = np.random.default_rng(7)
    baseline = lognormal(rng, 1.0, 0.01, 40)
    candidate = lognormal(rng, 1.08, 0.01, 40)
    assert unpaired_p(candidate, baseline, 0.0) < 1e-10
    assert unpaired_p(candidate, baseline, 0.10) > 0.99
    assert paired_p(candidate, baseline, 0.10) > 0.99


def test_a_slowdown_beyond_the_threshold_is_found_both_ways():
    rng = np.random.default_rng(8)
    baseline = lognormal(rng, 1.0, 0.03, 15)
    candidate = baseline * 1.25 * np.exp(rng.normal(0, 0.01, 15))
    assert unpaired_p(candidate, baseline, 0.10) < 0.001
    assert paired_p(candidate, baseline, 0.10) < 0.001
    assert unpaired_p(baseline, candidate, 0.10) > 0.99, "the mirrored question (an improvement) says no"


def test_arrays_judge_many_runs_at_once_like_one_at_a_time():
    rng = np.random.default_rng(9)
    candidate, baseline = lognormal(rng, 1.1, 0.05, (6, 12)), lognormal(rng, 1.0, 0.05, (6, 12))
    for row in range(6):
        assert unpaired_p(candidate, baseline, 0.1)[row] == pytest.approx(unpaired_p(candidate[row], baseline[row], 0.1))
        assert paired_p(candidate, baseline, 0.1)[row] == pytest.approx(paired_p(candidate[row], baseline[row], 0.1))


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [1.0, 0.0], [1.0, -2.0]])
def test_timings_must_be_positive_and_finite(bad):
    with pytest.raises(ValueError):
        unpaired_p(bad or np.zeros(0), [1.0, 2.0, 3.0], 0.1)


def test_paired_needs_pairs():
    with pytest.raises(ValueError, match="as many"):
        paired_p([1.0, 2.0, 3.0], [1.0, 2.0], 0.1)


@pytest.mark.parametrize("rounds", range(3, 12))
def test_smallest_p_is_what_scipy_gives_for_complete_separation(rounds):
    low, high = np.arange(1.0, rounds + 1), np.arange(100.0, 100 + rounds)
    assert unpaired_p(high, low, 0.0) == pytest.approx(smallest_p(rounds, paired=False))
    assert paired_p(high, low, 0.0) == pytest.approx(smallest_p(rounds, paired=True))


@pytest.mark.parametrize("paired", [False, True])
@pytest.mark.parametrize("alpha,family", [(0.01, 1), (0.01, 2), (0.01, 40), (0.05, 6), (0.001, 3)])
def test_rounds_needed_is_the_fewest_that_can_pass_holms_first_step(paired, alpha, family):
    needed = rounds_needed(alpha, family, paired)
    test = paired_p if paired else unpaired_p
    for rounds, can in ((needed, True), (needed - 1, False)):
        if rounds < 3:
            continue
        best = float(test(np.arange(100.0, 100 + rounds), np.arange(1.0, rounds + 1), 0.0))
        assert (best < alpha / family) is can, (rounds, best)


def test_rounds_needed_known_values():
    """The issue's numbers: A/B at alpha 0.01 needs 7 pairs alone, 8 for the default two-metric family."""
    assert rounds_needed(0.01, 1, paired=True) == 7
    assert rounds_needed(0.01, 2, paired=True) == 8
    assert rounds_needed(0.01, 2, paired=False) == 5


def brute_force_holm(p_values, alpha):
    """Holm from its definition: H_(i) is rejected iff every p_(j), j <= i, is below alpha / (K - j + 1)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    rejected = [False] * len(p_values)
    for rank, index in enumerate(order):
        rejected[index] = all(p_values[order[j]] < alpha / (len(p_values) - j) for j in range(rank + 1))
    return rejected


@pytest.mark.parametrize("seed", range(30))
def test_holm_matches_its_definition_and_the_batch_version(seed):
    rng = np.random.default_rng(seed)
    p = list(rng.choice([0.0001, 0.002, 0.004, 0.006, 0.011, 0.3, 0.9], size=int(rng.integers(1, 8))))
    assert holm(p, 0.01) == brute_force_holm(p, 0.01)
    assert list(holm_batch(np.array([p]), 0.01)[0]) == brute_force_holm(p, 0.01)


def test_holm_steps_down_where_bonferroni_stops():
    assert holm([0.004, 0.009], 0.01) == [True, True]  # 0.004 < 0.01/2, then 0.009 < 0.01/1
    assert holm([0.006, 0.009], 0.01) == [False, False]  # the first step fails: nothing is rejected
    assert holm([0.003, 0.009], 0.01, family_size=3) == [True, False], "a share of a bigger family steps less"


def test_holm_refuses_a_family_smaller_than_its_verdicts():
    with pytest.raises(ValueError, match="family size"):
        holm([0.1, 0.2], 0.01, family_size=1)


def test_a_regression_must_show_in_both_measurements():
    assert both_measurements(0.001, 0.2) == 0.2
    assert both_measurements(0.3, 0.001) == 0.3
    assert both_measurements(0.001, 0.002) == 0.002


def test_clopper_pearson_known_values():
    low, high = clopper_pearson(0, 5)
    assert (low, round(high, 3)) == (0.0, 0.522)  # 1 - 0.025 ** (1 / 5)
    low, high = clopper_pearson(5000, 5000)
    assert round(low, 5) == round(0.025 ** (1 / 5000), 5) and high == 1.0
