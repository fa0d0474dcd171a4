"""Heat as users meet it (docs/results.md "Heat"): `pytest benchmarks/` on a SIMULATED harness (the real host harness
loop over the scripted engine, tests/support/faulty_harness.py) whose calibration workload reports a hot round on
cue. The hot round stays in the results, is flagged, left out of the baseline, and counted in the summary; the
cooldown waits for a nominal device, bounded, and names the fix when a harness cannot say how hot it is."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import ROOT, results_of
from tests.runner.test_faults import FAULTY_CONFTEST

SUITE = (ROOT / "benchmarks" / "test_kokoro.py").read_text()
ARGS = ["-p", "no:randomly", "-p", "no:cacheprovider", "--kokoro-texts=short", "--kokoro-quality=basic"]


def run(pytester, monkeypatch, harness_args, *args):
    monkeypatch.setenv("FAULTY_HARNESS_ARGS", harness_args)
    pytester.makepyfile(test_kokoro=SUITE)
    pytester.makeconftest(FAULTY_CONFTEST)
    return pytester.runpytest_subprocess(*ARGS, *args)


def test_a_hot_round_is_kept_flagged_left_out_of_the_baseline_and_counted(pytester, monkeypatch):
    result = run(pytester, monkeypatch, "--hot-runs 3", "--kokoro-rounds=6", "--kokoro-save-baseline=cool",
                 "--kokoro-baselines-dir=bl")
    result.assert_outcomes(passed=1)
    rows = results_of(pytester)[1]
    assert [r["heat_flags"] for r in rows] == [[], [], ["calibration_hot"], [], [], []]
    assert [r["calibration_time"] for r in rows] == [0.02, 0.02, 0.2, 0.02, 0.02, 0.02]
    assert all(r["calibration_time_after"] == 0.02 and r["cpu_frequency_mhz_before"] is None for r in rows)
    result.stdout.fnmatch_lines(["host: 1 of 6 rounds ran hot (calibration_hot: 1): kept in the results, left out of "
                                 "gates and baselines; --kokoro-cooldown nominal waits *"])
    saved = json.loads(next((pytester.path / "bl").rglob("cool.json")).read_text())
    assert len(saved["cases"]["int8-jf_alpha-short"]["rtf"]) == 5, "the hot round is not in the baseline"


def test_the_aa_check_leaves_out_the_pairs_the_gate_leaves_out(pytester, monkeypatch):
    """Each arm's harness runs its third round hot: that pair is out of the gate, so out of the A/A interval too."""
    result = run(pytester, monkeypatch, "--hot-runs 3", "--kokoro-rounds=8", "--kokoro-ab-baseline=same")
    result.assert_outcomes(passed=1)
    rows = results_of(pytester)[1]
    assert sum(bool(r["heat_flags"]) for r in rows) == 2
    result.stdout.fnmatch_lines(["TTFA candidate/baseline: median of 7 per-pair ratios *"])


def test_factor_zero_turns_the_calibration_rule_off(pytester, monkeypatch):
    result = run(pytester, monkeypatch, "--hot-runs 2", "--kokoro-rounds=2", "--kokoro-hot-factor=0")
    result.assert_outcomes(passed=1)
    assert [r["heat_flags"] for r in results_of(pytester)[1]] == [[], []]
    assert "ran hot" not in result.stdout.str()


def test_the_nominal_cooldown_waits_at_most_its_bound_then_goes_on_and_says_so(pytester, monkeypatch):
    """Conditions request 1 (before round 0) is cool; 2 and 3 (before round 1, and the poll after 1 s) are hot."""
    result = run(pytester, monkeypatch, "--hot-conditions 2,3", "--kokoro-rounds=2", "--kokoro-cooldown=nominal:1")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*kokoro: waiting for host to cool down before int8-jf_alpha-short round 1 (at most 1 s): calibration 200.0 ms "
        "(10.00× the coolest; hot above 2×)*",
        "*kokoro: host is still not nominal after 1 s (calibration 200.0 ms *); going on with int8-jf_alpha-short "
        "round 1, which is left out of gates if it runs hot*"])


def test_a_harness_without_the_conditions_request_names_the_fix(pytester, monkeypatch):
    result = run(pytester, monkeypatch, "--old-protocol", "--kokoro-rounds=1", "--kokoro-cooldown=nominal")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the host harness cannot report its conditions: pytest_kokoro.harness 0.1.0 does not "
                                 "answer the conditions request that --kokoro-cooldown nominal needs: rebuild and "
                                 "reinstall the app (iphone), rebuild ios-harness (swift) or update*"])


@pytest.mark.skipif(shutil.which("swift") is None, reason="needs the Swift toolchain (the SIMULATED scripted CLI)")
def test_the_swift_harness_answers_conditions_and_writes_the_heat_keys(pytester):
    """SIMULATED scripted engine through the Swift CLI: the nominal cooldown asks the Swift harness before each
    round, and every round has the heat keys (null temperature and frequency on a VM, never invented)."""
    pytester.makepyfile(test_kokoro=SUITE)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--kokoro-device=swift", "--kokoro-engine=scripted",
                                           "--kokoro-variants=bf16", "--kokoro-texts=short", "--kokoro-rounds=2",
                                           "--kokoro-cooldown=nominal:20")
    result.assert_outcomes(passed=1)
    for row in results_of(pytester)[1]:
        assert row["calibration_time"] > 0 and row["calibration_time_after"] > 0
        assert isinstance(row["heat_flags"], list) and row["broken_rules"] == []
        for key in ("cpu_temperature_c_before", "cpu_temperature_c_after", "cpu_frequency_mhz_before",
                    "cpu_frequency_mhz_after"):
            assert key in row
