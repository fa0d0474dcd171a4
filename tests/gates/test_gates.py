"""Tests of pytest_kokoro.gates.statistics: the Mann-Whitney U test, gate specs, verdicts and budgets."""

from __future__ import annotations

import argparse
import itertools
import math
import random

import pytest

from pytest_kokoro.gates.statistics import (
    IMPROVEMENT,
    INSUFFICIENT_DATA,
    REGRESSION,
    UNCHANGED,
    GateSpec,
    GateSpecError,
    Verdict,
    calibrated,
    check_budget,
    compare,
    compare_paired,
    exact_u_counts,
    mann_whitney_u_greater,
    metric_values,
    parse_gate_spec,
    rounds_needed,
    wilcoxon_signed_rank_greater,
)


def brute_force_p_greater(candidate: list[float], baseline: list[float]) -> tuple[float, float]:
    """U and its exact one-sided p by enumerating every way to pick the candidate's positions in the pool."""
    pooled = candidate + baseline
    m = len(candidate)

    def u_of(chosen: set[int]) -> float:
        picked = [pooled[i] for i in chosen]
        rest = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        return sum((c > b) + 0.5 * (c == b) for c in picked for b in rest)

    observed = u_of(set(range(m)))
    arrangements = [u_of(set(chosen)) for chosen in itertools.combinations(range(len(pooled)), m)]
    return observed, sum(u >= observed for u in arrangements) / len(arrangements)


def noisy(center: float, spread: float, rounds: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(center, center * spread) for _ in range(rounds)]


# ------------------------------------------------------------------------------------------------ Mann-Whitney


@pytest.mark.parametrize(
    ("candidate", "baseline"),
    [
        ([4.0, 5.0, 6.0], [1.0, 2.0, 3.0]),
        ([0.41, 0.39, 0.44, 0.37], [0.35, 0.36, 0.40, 0.33, 0.38]),
        ([1.0, 9.0, 3.0, 7.0, 5.0], [2.0, 8.0, 4.0, 6.0]),
        ([0.2, 0.1], [0.5, 0.4, 0.3, 0.6, 0.7]),
        ([0.33, 0.29, 0.41, 0.36, 0.30, 0.38], [0.31, 0.27, 0.35, 0.28, 0.32, 0.34]),
    ],
)
def test_exact_p_matches_brute_force_enumeration(candidate, baseline):
    u, p = mann_whitney_u_greater(candidate, baseline)
    expected_u, expected_p = brute_force_p_greater(candidate, baseline)
    assert u == expected_u
    assert p == pytest.approx(expected_p, rel=1e-12)


def test_known_exact_values():
    # All three candidates above all three baselines: 1 arrangement of C(6, 3) = 20.
    assert mann_whitney_u_greater([4, 5, 6], [1, 2, 3]) == (9, pytest.approx(1 / 20))
    # The opposite: every arrangement has U >= 0.
    assert mann_whitney_u_greater([1, 2, 3], [4, 5, 6]) == (0, pytest.approx(1.0))


@pytest.mark.parametrize(("m", "n"), [(1, 1), (3, 4), (5, 5), (7, 2)])
def test_exact_u_counts_cover_every_arrangement_symmetrically(m, n):
    counts = exact_u_counts(m, n)
    assert len(counts) == m * n + 1
    assert sum(counts) == math.comb(m + n, m)
    assert counts == counts[::-1]  # U and m*n - U are equally likely under the null


def test_ties_use_normal_approximation_with_tie_and_continuity_correction():
    # Reference: scipy.stats.mannwhitneyu(c, b, alternative="greater", method="asymptotic") -> (25.5, 0.0302132...)
    u, p = mann_whitney_u_greater([3, 3, 4, 5, 5, 6], [1, 2, 3, 3, 4])
    assert u == 25.5
    assert p == pytest.approx(0.030213227253196466, rel=1e-9)


def test_ties_stay_close_to_the_exact_conditional_p():
    # Timings rounded to the millisecond tie; with 7 rounds a side the approximation is within a few points of
    # the exact p over every arrangement of the tied values (0.121 vs 0.140 here).
    candidate = [0.35, 0.36, 0.36, 0.37, 0.38, 0.38, 0.39]
    baseline = [0.34, 0.35, 0.35, 0.36, 0.37, 0.37, 0.38]
    u, p = mann_whitney_u_greater(candidate, baseline)
    expected_u, exact_p = brute_force_p_greater(candidate, baseline)
    assert u == expected_u
    assert p == pytest.approx(exact_p, abs=0.025)


def test_all_values_equal_gives_no_evidence():
    assert mann_whitney_u_greater([0.3] * 5, [0.3] * 6) == (15.0, 1.0)


def test_large_samples_use_the_normal_approximation():
    # Reference: scipy.stats.mannwhitneyu(c, b, alternative="greater", method="asymptotic") -> (340, 0.084543...)
    candidate = [0.5 + 0.04 * i for i in range(25)]
    baseline = [0.45 + 0.04 * i for i in range(22)]
    u, p = mann_whitney_u_greater(candidate, baseline)
    assert u == 340
    assert p == pytest.approx(0.08454330662984832, rel=1e-9)


@pytest.mark.parametrize(("candidate", "baseline"), [([], [1.0]), ([1.0], []), ([math.nan, 1.0], [1.0])])
def test_mann_whitney_rejects_empty_or_non_finite_samples(candidate, baseline):
    with pytest.raises(ValueError, match="candidate|baseline"):
        mann_whitney_u_greater(candidate, baseline)


# ------------------------------------------------------------------------------------------------ verdicts


@pytest.mark.parametrize("seed", range(20))
def test_a_a_comparison_is_unchanged(seed):
    baseline = noisy(0.35, 0.05, 10, seed)
    candidate = noisy(0.35, 0.05, 10, seed + 1000)
    verdict = compare("rtf", baseline, candidate, threshold=0.10, alpha=0.01)
    assert verdict.verdict == UNCHANGED, verdict.message()


def test_shift_of_twenty_percent_with_low_noise_is_a_regression():
    baseline = noisy(0.35, 0.02, 10, seed=1)
    candidate = noisy(0.42, 0.02, 10, seed=2)
    verdict = compare("rtf", baseline, candidate, threshold=0.10, alpha=0.01)
    assert verdict.verdict == REGRESSION
    assert verdict.is_regression
    assert verdict.ratio == pytest.approx(1.2, abs=0.03)
    assert verdict.p < 1e-3
    message = verdict.message()
    assert message.startswith("rtf regressed: median 0.4")
    assert "vs baseline 0.35" in message
    assert "> 10% threshold" in message
    assert "Mann-Whitney p=" in message and "< 0.01" in message


def test_significant_shift_within_the_threshold_is_unchanged():
    baseline = noisy(0.35, 0.01, 10, seed=3)
    candidate = noisy(0.35 * 1.05, 0.01, 10, seed=4)
    verdict = compare("rtf", baseline, candidate, threshold=0.10, alpha=0.01)
    assert verdict.p < 0.01  # a real 5% slowdown, but under the 10% the user accepts
    assert verdict.verdict == UNCHANGED
    assert "within the 10% threshold" in verdict.message()


def test_big_ratio_over_noisy_rounds_is_not_a_regression():
    baseline = [1.0, 1.6, 0.7, 2.4, 1.2]
    candidate = [1.5, 0.8, 2.9, 1.1, 1.9]
    verdict = compare("ttfa", baseline, candidate, threshold=0.15, alpha=0.01)
    assert verdict.ratio == pytest.approx(1.25)
    assert verdict.p == pytest.approx(0.34523809523809523)  # scipy's exact p for these samples
    assert verdict.verdict == UNCHANGED
    assert "not distinguishable from noise" in verdict.message()


def test_big_ratio_over_too_few_rounds_is_insufficient_data():
    verdict = compare("rtf", [0.30, 0.31], [0.60, 0.62, 0.61], threshold=0.10, alpha=0.01)
    assert verdict.verdict == INSUFFICIENT_DATA
    assert not verdict.is_regression
    message = verdict.message()
    assert "baseline has 2 rounds and this run 3" in message
    assert "at least 5 rounds on each side" in message


def test_rounds_too_few_to_ever_reach_alpha_are_insufficient_data():
    # 4 vs 4 rounds cannot go below p = 1/70 ~ 0.014, so at alpha 0.01 "unchanged" would be a blind verdict.
    baseline, candidate = [1.0, 1.01, 1.02, 1.03], [2.0, 2.01, 2.02, 2.03]
    assert compare("rtf", baseline, candidate, 0.10, alpha=0.01).verdict == INSUFFICIENT_DATA
    assert compare("rtf", baseline, candidate, 0.10, alpha=0.05).verdict == REGRESSION


def test_rounds_needed_follows_alpha():
    assert rounds_needed(0.01) == 5
    assert rounds_needed(0.05) == 4
    assert rounds_needed(0.5) == 3


def test_improvement_is_reported_as_improvement():
    baseline = noisy(0.35, 0.02, 10, seed=5)
    candidate = noisy(0.28, 0.02, 10, seed=6)
    verdict = compare("rtf", baseline, candidate, threshold=0.10, alpha=0.01)
    assert verdict.verdict == IMPROVEMENT
    assert not verdict.is_regression
    assert verdict.p < 0.01
    assert verdict.message().startswith("rtf improved: median 0.2")


def test_regression_message_format():
    verdict = Verdict(
        metric="rtf",
        baseline_median=0.351,
        candidate_median=0.412,
        ratio=0.412 / 0.351,
        p=0.0004,
        verdict=REGRESSION,
        threshold=0.10,
        alpha=0.01,
        baseline_rounds=10,
        candidate_rounds=10,
    )
    assert verdict.message() == (
        "rtf regressed: median 0.412 vs baseline 0.351 (×1.17, +17.4% > 10% threshold, Mann-Whitney p=0.0004 < 0.01)"
    )


def test_compare_rejects_bad_threshold_and_alpha():
    values = [1.0, 1.1, 1.2]
    with pytest.raises(ValueError, match="threshold"):
        compare("rtf", values, values, threshold=-0.1, alpha=0.01)
    with pytest.raises(ValueError, match="alpha"):
        compare("rtf", values, values, threshold=0.1, alpha=1.5)


# ------------------------------------------------------------------------------------------------ gate specs


def test_default_gate_spec():
    spec = GateSpec()
    assert spec.thresholds == {"rtf": 0.10, "ttfa": 0.15}
    assert spec.alpha == 0.01


def test_parse_gate_spec_overrides_only_the_metrics_named():
    spec = parse_gate_spec("rtf=5%, inference=20% ,alpha=0.05")
    assert spec.thresholds == {"rtf": pytest.approx(0.05), "ttfa": 0.15, "inference": pytest.approx(0.20)}
    assert spec.alpha == 0.05


def test_parse_gate_spec_off_and_percent_alpha():
    spec = parse_gate_spec("ttfa=off,alpha=1%")
    assert spec.thresholds == {"rtf": 0.10}
    assert spec.alpha == pytest.approx(0.01)


def test_gate_spec_string_round_trips():
    spec = parse_gate_spec("rtf=12.5%,ttfa=off,alpha=0.02")
    assert str(spec) == "rtf=12.5%,ttfa=off,alpha=0.02"
    assert parse_gate_spec(str(spec)) == spec


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty gate spec"),
        ("rtf", "'rtf' is not metric=threshold"),
        ("rtf=", "'rtf=' is not metric=threshold"),
        ("rtf=0.1", "write the rtf threshold as a percentage, e.g. rtf=10%"),
        ("rtf=-5%", "must not be negative"),
        ("rtf=abc%", "'abc' is not a number"),
        ("rtf=inf%", "finite"),
        ("rft=10%", "unknown metric 'rft' in gate spec; known metrics: inference, rtf, ttfa"),
        ("rtf=10%,rtf=5%", "'rtf' is given twice"),
        ("rtf=10%,,ttfa=5%", "stray comma"),
        ("alpha=2", "alpha is a significance level between 0 and 1"),
    ],
)
def test_bad_gate_specs_are_rejected_with_a_message(text, message):
    with pytest.raises(ValueError) as error:
        parse_gate_spec(text)
    assert message in str(error.value)


def test_gate_spec_errors_reach_argparse_users(capsys):
    parser = argparse.ArgumentParser(prog="pytest")
    parser.add_argument("--kokoro-gate", type=parse_gate_spec)
    assert parser.parse_args(["--kokoro-gate", "rtf=7%"]).kokoro_gate.thresholds["rtf"] == pytest.approx(0.07)
    with pytest.raises(SystemExit):
        parser.parse_args(["--kokoro-gate", "rft=10%"])
    assert "unknown metric 'rft'" in capsys.readouterr().err
    assert issubclass(GateSpecError, ValueError)


# ------------------------------------------------------------------------------------------------ budgets and values


def test_budget_within_limits_gives_no_messages():
    assert check_budget({"rtf": [0.4, 0.45, 0.5], "ttfa": [0.8, 0.9, 0.7]}, {"rtf": 0.5, "ttfa": 1.0}) == []


def test_budget_over_limit_names_metric_median_and_budget():
    messages = check_budget({"rtf": [0.6, 0.62, 0.7], "ttfa": [0.8, 0.9, 0.7]}, {"rtf": 0.5, "ttfa": 1.0})
    assert messages == ["rtf over budget: median 0.62 > 0.5 (over 3 rounds, worst 0.7)"]


def test_budget_judges_the_median_not_one_outlier():
    assert check_budget({"ttfa": [0.5, 0.6, 3.0]}, {"ttfa": 1.0}) == []


def test_budget_without_values_is_reported():
    assert check_budget({"rtf": [0.1]}, {"ttfa": 1.0}) == [
        "ttfa has a budget of 1 but no ttfa values were measured"
    ]


@pytest.mark.parametrize(("budgets", "message"), [({"rft": 0.5}, "unknown budget metric"), ({"rtf": 0}, "positive")])
def test_bad_budgets_are_rejected(budgets, message):
    with pytest.raises(ValueError, match=message):
        check_budget({"rtf": [0.1]}, budgets)


def test_metric_values_read_the_result_keys():
    rounds = [
        {"real_time_factor": 0.3, "time_to_first_audio": 0.9, "inference_time": 1.2},
        {"real_time_factor": 0.32, "time_to_first_audio": 1.0, "inference_time": 1.3},
    ]
    assert metric_values(rounds) == {"rtf": [0.3, 0.32], "ttfa": [0.9, 1.0], "inference": [1.2, 1.3],
                                     "calibration": []}


def test_calibrated_values_divide_each_round_by_its_calibration():
    values = {"rtf": [0.3, 0.6], "calibration": [0.01, 0.02]}
    assert calibrated(values, "rtf") == pytest.approx([30.0, 30.0])
    assert calibrated({"rtf": [0.3, 0.6], "calibration": [0.01]}, "rtf") is None
    assert calibrated({"rtf": [0.3], "calibration": [0.0]}, "rtf") is None
    assert calibrated({"rtf": [0.3]}, "rtf") is None


def test_a_machine_twice_as_busy_is_not_a_regression_once_calibrated():
    baseline = {"rtf": [0.30, 0.31, 0.29, 0.30, 0.32, 0.30, 0.31], "calibration": [0.020, 0.021, 0.019, 0.020, 0.021, 0.020, 0.020]}
    busy = {key: [2 * v for v in values] for key, values in baseline.items()}
    slower_code = {"rtf": [1.25 * v for v in baseline["rtf"]], "calibration": baseline["calibration"]}
    assert compare("rtf", baseline["rtf"], busy["rtf"], 0.10).verdict == REGRESSION
    assert compare("rtf", calibrated(baseline, "rtf"), calibrated(busy, "rtf"), 0.10).verdict == UNCHANGED
    assert compare("rtf", calibrated(baseline, "rtf"), calibrated(slower_code, "rtf"), 0.10).verdict == REGRESSION


def test_signed_rank_p_matches_brute_force_enumeration():
    import itertools

    differences = [0.3, -0.1, 0.25, 0.4, -0.05, 0.2, 0.15, -0.33]
    w_plus, p = wilcoxon_signed_rank_greater(differences)
    order = sorted(range(len(differences)), key=lambda i: abs(differences[i]))
    rank = {i: k + 1 for k, i in enumerate(order)}
    patterns = list(itertools.product([False, True], repeat=len(differences)))
    at_least = sum(1 for signs in patterns if sum(rank[i] for i, s in enumerate(signs) if s) >= w_plus)
    assert p == at_least / len(patterns)


def test_signed_rank_normal_approximation_with_ties_matches_scipy():
    # scipy 1.17: wilcoxon(d, alternative="greater", method="approx", correction=True).pvalue
    differences = [0.1, 0.1, 0.2, -0.1, 0.3, 0.3, 0.2, 0.1, 0.05, 0.4] * 3
    assert wilcoxon_signed_rank_greater(differences)[1] == pytest.approx(1.1865966331955193e-05, rel=1e-9)


def test_paired_comparison_sees_a_shift_that_a_load_swing_hides():
    # Two machine regimes ~30% apart alternate within the run; the candidate is 15% slower in every pair.
    baseline = [0.30, 0.39, 0.29, 0.38, 0.31, 0.40, 0.30, 0.39, 0.29, 0.38, 0.30, 0.39]
    candidate = [b * 1.15 for b in baseline]
    assert compare("rtf", baseline, candidate, 0.10).verdict == UNCHANGED
    paired = compare_paired("rtf", baseline, candidate, 0.10)
    assert paired.verdict == REGRESSION and "Wilcoxon signed-rank p=" in paired.message()
    assert compare_paired("rtf", candidate, baseline, 0.10).verdict == IMPROVEMENT
    assert compare_paired("rtf", baseline, baseline, 0.10).verdict == UNCHANGED
    assert compare_paired("rtf", baseline[:6], candidate[:6], 0.10).verdict == INSUFFICIENT_DATA
    with pytest.raises(ValueError, match="as many"):
        compare_paired("rtf", baseline, candidate[:5], 0.10)
