"""Hot rounds (runner/heat.py) and the cooldown that waits until the device is nominal (runner/order.py)."""

from __future__ import annotations

import json
import re

import pytest

from pytest_kokoro.core.options import CooldownSpec, cooldown
from pytest_kokoro.core.schema import gate_exclusions
from pytest_kokoro.runner.heat import HeatRule
from pytest_kokoro.runner.order import Cooldown, NominalCooldown, make_cooldown
from pytest_kokoro.runner.records import Case, Settings
from pytest_kokoro.runner.session import CaseFailed
from tests.conftest import ROOT


def round_(calibration, after=None, thermal=None):
    return {"calibration_time": calibration, "calibration_time_after": after, "thermal_state_before": thermal}


def test_a_round_is_hot_when_its_calibration_is_beyond_the_factor_of_the_coolest_so_far():
    rule = HeatRule(1.5)
    assert rule.flags(round_(0.030)) == []  # the first round sets the reference: never hot against itself
    assert rule.flags(round_(0.044, after=0.020)) == []  # 1.47x: not hot; its after-workload is the new coolest
    assert rule.flags(round_(0.031)) == ["calibration_hot"]  # 1.55x the 0.020 seen after the last round
    assert rule.coolest == 0.020


def test_a_serious_thermal_state_is_hot_under_the_swift_harness_own_name():
    rule = HeatRule(1.5)
    flags = rule.flags(round_(0.02, thermal="serious"))
    assert flags == ["thermal_state_before_serious"]
    assert rule.flags(round_(0.02, thermal="fair")) == []
    # The phone already put the same reason into excluded_from_gates: gates see it once.
    assert gate_exclusions({"excluded_from_gates": ["thermal_state_before_serious"], "heat_flags": flags}) == [
        "thermal_state_before_serious"]


def test_factor_zero_turns_the_calibration_rule_off_and_null_readings_are_never_hot():
    rule = HeatRule(0)
    rule.flags(round_(0.01))
    assert rule.flags(round_(1.0)) == []
    assert HeatRule(1.5).flags(round_(None)) == []


def test_hot_rounds_are_left_out_of_gates_beside_the_harness_reasons():
    assert gate_exclusions({"heat_flags": ["calibration_hot"]}) == ["calibration_hot"]
    assert gate_exclusions({"excluded_from_gates": ["debug_build"], "heat_flags": []}) == ["debug_build"]
    assert gate_exclusions({"heat_flags": []}) == []


def test_the_docs_heat_example_is_what_the_rule_finds():
    """docs/results.md "Heat": the rounds of its example carry the heat_flags this rule gives them."""
    text = (ROOT / "docs" / "results.md").read_text()
    section = text.split("## Heat", 1)[1]
    rounds = json.loads(re.search(r"```json\n(.*?)```", section, flags=re.S).group(1))
    assert len(rounds) >= 3 and any(r["heat_flags"] for r in rounds) and any(not r["heat_flags"] for r in rounds)
    rule = HeatRule()  # the default factor, as a user's run has it
    assert [rule.flags(r) for r in rounds] == [r["heat_flags"] for r in rounds]


@pytest.mark.parametrize("text,spec", [("0", CooldownSpec(0.0)), ("30", CooldownSpec(30.0)),
                                       ("nominal", CooldownSpec(600.0, True)),
                                       ("nominal:90", CooldownSpec(90.0, True))])
def test_the_cooldown_option_takes_seconds_or_nominal_with_a_bound(text, spec):
    assert cooldown(text) == spec
    assert bool(spec) == (text != "0")


@pytest.mark.parametrize("text,message", [("hot", "SECONDS, nominal or nominal:MAX_SECONDS"),
                                          ("nominal:0", "must be positive"), ("nominal:x", "expected a number"),
                                          ("-3", "SECONDS, nominal")])
def test_a_bad_cooldown_says_what_it_takes(text, message):
    with pytest.raises(ValueError, match=message):
        cooldown(text)


def test_make_cooldown_builds_the_one_asked_for():
    assert make_cooldown(CooldownSpec(0.0)) is None
    assert isinstance(make_cooldown(CooldownSpec(5.0)), Cooldown)
    assert isinstance(make_cooldown(CooldownSpec(60.0, True)), NominalCooldown)


class FakeSession:
    """Answers ``conditions`` from a script; a fake clock moves only when the cooldown sleeps."""

    def __init__(self, answers, arm=None):
        self.answers = list(answers)
        self.heat = HeatRule(1.5)
        self.settings = Settings("iphone", rounds=1, warmup=True, timeout=1.0)
        self.arm = arm
        self.asked = 0

    def conditions(self):
        self.asked += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def conditions(calibration, thermal=None):
    return {"thermal_state": thermal, "cpu_temperature_c": None, "cpu_frequency_mhz": None,
            "calibration_time": calibration}


def waiting(session, max_seconds=600.0):
    said, now = [], [0.0]

    def sleep(seconds):
        now[0] += seconds

    NominalCooldown(max_seconds, said.append, sleep, lambda: now[0], poll=5.0, every=20.0)(
        session, Case("bf16", "af_heart", "short", "Hi."), 2)
    return said, now[0]


def test_a_nominal_device_starts_at_once_and_silently():
    session = FakeSession([conditions(0.02, "nominal")])
    assert waiting(session) == ([], 0.0)


def test_the_cooldown_waits_until_thermal_state_and_calibration_are_both_nominal_and_says_how_it_goes():
    session = FakeSession([conditions(0.05, "serious"), *[conditions(0.05, "fair")] * 9,
                           conditions(0.021, "fair")])
    session.heat.observe(0.02)  # the coolest of the session so far
    said, waited = waiting(session)
    assert waited == 50.0 and session.asked == 11
    assert said[0].startswith("kokoro: waiting for iphone to cool down before bf16-af_heart-short round 2 (at most "
                              "600 s): thermal state serious, calibration 50.0 ms (2.50× the coolest; hot above 1.5×)")
    progress = [line for line in said if line.startswith("kokoro: still cooling down")]
    assert [line.split(",")[1] for line in progress] == [" 20 s: thermal state fair", " 40 s: thermal state fair"]
    assert said[-1].startswith("kokoro: iphone is nominal after 50 s (thermal state fair, calibration 21.0 ms")


def test_at_the_bound_the_cooldown_goes_on_and_says_so():
    session = FakeSession([conditions(0.2)])
    session.heat.observe(0.02)
    said, waited = waiting(session, max_seconds=12)
    assert waited == 12.0
    assert said[-1].startswith("kokoro: iphone is still not nominal after 12 s (calibration 200.0 ms")
    assert "going on with bf16-af_heart-short round 2, which is left out of gates if it runs hot" in said[-1]


def test_a_harness_that_cannot_answer_stops_the_case_with_its_message():
    session = FakeSession([CaseFailed("the iphone harness cannot report its conditions: rebuild and reinstall")])
    with pytest.raises(CaseFailed, match="rebuild and reinstall"):
        waiting(session)


def test_a_hot_host_round_stays_in_the_results_and_out_of_the_gate_comparison_and_the_baseline():
    from pytest_kokoro.runner.cases import CaseRunner, baseline_cases
    from pytest_kokoro.runner.records import CaseRecord

    cool = {"real_time_factor": 0.5, "heat_flags": []}  # the host harness writes no excluded_from_gates
    hot = {"real_time_factor": 0.9, "heat_flags": ["calibration_hot"]}

    class Keeper:
        def compare(self, case_id, results):
            return results

    case = Case("int8", "jf_alpha", "short", "Hi.")
    assert CaseRunner(None, Keeper())._compare(case, [cool, hot, cool], []) == [cool, cool]
    record = CaseRecord(case, "t[c]", [cool, hot, cool], first_rounds=3, passed=True)
    assert baseline_cases([record]) == ([("int8-jf_alpha-short", [cool, cool])], [])


def test_a_gate_left_with_too_few_rounds_says_how_many_ran_hot_and_what_to_do():
    from pytest_kokoro.gates.keeper import GateSetupError
    from pytest_kokoro.runner.cases import CaseRunner

    hot = {"real_time_factor": 0.9, "heat_flags": ["calibration_hot"]}
    cool = {"real_time_factor": 0.5, "heat_flags": []}

    class Keeper:
        def compare(self, case_id, results):
            raise GateSetupError(f"with this run's {len(results)} no verdict could reach alpha")

    case = Case("int8", "jf_alpha", "short", "Hi.")
    with pytest.raises(GateSetupError, match=r"no round is left to compare: 2 of 2 rounds of int8-jf_alpha-short were "
                                             r"left out of gates \(calibration_hot: 2\); let the device cool down "
                                             r"before each round \(--kokoro-cooldown nominal\)"):
        CaseRunner(None, Keeper())._compare(case, [hot, hot], [])
    with pytest.raises(GateSetupError, match=r"run's 1 no verdict could reach alpha: 1 of 2 rounds .*hot-factor"):
        CaseRunner(None, Keeper())._compare(case, [hot, cool], [])
    with pytest.raises(GateSetupError, match=r"no pair of rounds is left to compare: 2 of 4 rounds"):
        CaseRunner(None, Keeper(), ab_baseline=object())._compare(case, [hot, hot], [cool, cool])
