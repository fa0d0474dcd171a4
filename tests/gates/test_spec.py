"""Tests of pytest_kokoro.gates.spec: gate spec strings, per-round values, calibration and budgets."""

from __future__ import annotations

import argparse

import pytest

from pytest_kokoro.gates.spec import GateSpec, GateSpecError, calibrated, check_budget, metric_values, parse_gate_spec
from pytest_kokoro.gates.verdicts import compare_unpaired

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
        ("rft=10%", "unknown metric 'rft' in gate spec; known metrics: inference, intelligibility, rtf, ttfa"),
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
        {"real_time_factor": 0.3, "time_to_first_audio": 0.9, "inference_time": 1.2, "quality_intelligibility": 1.0},
        {"real_time_factor": 0.32, "time_to_first_audio": 1.0, "inference_time": 1.3, "quality_intelligibility": None},
    ]
    assert metric_values(rounds) == {"rtf": [0.3, 0.32], "ttfa": [0.9, 1.0], "inference": [1.2, 1.3],
                                     "intelligibility": [1.0], "calibration": []}


def test_calibrated_values_divide_each_round_by_its_calibration():
    values = {"rtf": [0.3, 0.6], "calibration": [0.01, 0.02]}
    assert calibrated(values, "rtf") == pytest.approx([30.0, 30.0])
    assert calibrated({"rtf": [0.3, 0.6], "calibration": [0.01]}, "rtf") is None
    assert calibrated({"rtf": [0.3], "calibration": [0.0]}, "rtf") is None
    assert calibrated({"rtf": [0.3]}, "rtf") is None


def test_a_machine_twice_as_busy_is_not_a_regression_once_calibrated():
    baseline = {"rtf": [0.30, 0.31, 0.29, 0.30, 0.32, 0.30, 0.31],
                "calibration": [0.020, 0.021, 0.019, 0.020, 0.021, 0.020, 0.020]}
    busy = {key: [2 * v for v in values] for key, values in baseline.items()}
    slower_code = {"rtf": [1.25 * v for v in baseline["rtf"]], "calibration": baseline["calibration"]}
    assert compare_unpaired("rtf", baseline["rtf"], busy["rtf"], 0.10).p_regression < 0.001
    assert compare_unpaired("rtf", calibrated(baseline, "rtf"), calibrated(busy, "rtf"), 0.10).p_regression > 0.5
    assert compare_unpaired("rtf", calibrated(baseline, "rtf"), calibrated(slower_code, "rtf"),
                            0.10).p_regression < 0.001
