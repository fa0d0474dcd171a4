"""The A/A check: --kokoro-ab-baseline=same puts a second harness of the same device and engine on the baseline arm,
and the summary gives the interval of the bias between the arms, pair by pair."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from pytest_kokoro.gates.statistics import median_ratio_interval
from tests.conftest import ROOT

SUITE = (ROOT / "benchmarks" / "test_kokoro.py").read_text()


def test_the_interval_covers_the_true_ratio_at_least_as_often_as_it_says():
    rng = np.random.default_rng(7)
    for bias in (1.0, 1.05):
        covered = 0
        for _ in range(400):
            baseline = np.exp(rng.normal(0, 0.15, 32))
            candidate = baseline * bias * np.exp(rng.normal(0, 0.15, 32))
            _, low, high = median_ratio_interval(list(baseline), list(candidate))
            covered += low <= bias <= high
        assert covered / 400 >= 0.93  # 95% nominal; the sign test's interval is conservative


def test_too_few_pairs_give_an_unbounded_interval_never_a_false_one():
    ratio, low, high = median_ratio_interval([1.0] * 5, [1.1, 1.2, 1.3, 1.4, 1.5])
    assert ratio == pytest.approx(1.3) and low == 0.0 and math.isinf(high)
    with pytest.raises(ValueError, match="as many baseline as candidate"):
        median_ratio_interval([1.0], [1.0, 2.0])


@pytest.mark.skipif(shutil.which("swift") is None, reason="needs the Swift toolchain (the SIMULATED scripted CLI)")
def test_an_aa_run_reports_the_bias_interval(pytester):
    pytester.makepyfile(test_kokoro=SUITE)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--kokoro-device=swift", "--kokoro-engine=scripted",
                                           "--kokoro-variants=bf16", "--kokoro-texts=short", "--kokoro-rounds=8",
                                           "--kokoro-ab-baseline=same", "--kokoro-hot-factor=0")  # counts the pairs
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["A/A check (the same harness on both arms)*",
                                 "TTFA candidate/baseline: median of 8 per-pair ratios *, 95% interval *–*",
                                 "RTF candidate/baseline: median of 8 per-pair ratios *"])


@pytest.mark.skipif(shutil.which("swift") is None, reason="needs the Swift toolchain (the SIMULATED scripted CLI)")
@pytest.mark.parametrize("first", ["baseline", "candidate"])
def test_ab_first_decides_which_arm_starts_and_the_arms_then_alternate(pytester, first):
    pytester.makepyfile(test_kokoro=SUITE)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--kokoro-device=swift", "--kokoro-engine=scripted",
                                           "--kokoro-variants=bf16", "--kokoro-texts=short", "--kokoro-rounds=8",
                                           "--kokoro-ab-baseline=same", f"--kokoro-ab-first={first}",
                                           "--kokoro-results-dir=results")
    result.assert_outcomes(passed=1)
    rounds = json.loads(sorted((pytester.path / "results").glob("benchmark_results_*.json"))[-1].read_text())
    arms = [r.get("arm", "candidate") for r in rounds]
    other = "candidate" if first == "baseline" else "baseline"
    assert arms == [first, other, other, first] * 4  # A B B A ...: each arm leads as often as the other
    assert rounds[0]["previous_round"] is None  # the first arm's harness started (and cold-loaded) first
    assert rounds[0]["cold"] and rounds[1]["cold"]
