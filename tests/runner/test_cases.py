"""The case runner's rules for what a baseline may hold."""

from pytest_kokoro.runner.cases import baseline_cases
from pytest_kokoro.runner.records import Case, CaseRecord


def record(text_id: str, rounds: int, first_rounds: int | None, passed: bool) -> CaseRecord:
    results = [{"round": i, "real_time_factor": 0.5} for i in range(rounds)]
    return CaseRecord(Case("int8", "jf_alpha", text_id, "Hi."), f"t::{text_id}", results, first_rounds, passed)


def test_a_baseline_holds_only_the_first_measurement_of_each_case():
    cases, failed = baseline_cases([record("short", 10, 5, True), record("default", 5, 5, True)])
    assert failed == []
    assert [(case_id, [r["round"] for r in rounds]) for case_id, rounds in cases] == [
        ("int8-jf_alpha-short", [0, 1, 2, 3, 4]), ("int8-jf_alpha-default", [0, 1, 2, 3, 4])]


def test_a_case_that_did_not_pass_stops_the_save():
    _, failed = baseline_cases([record("short", 5, 5, True), record("default", 2, None, False)])
    assert failed == ["int8-jf_alpha-default"]


def test_rounds_the_harness_left_out_of_gates_stay_in_results_but_not_in_gates_or_baselines():
    """A Debug build's or a hot phone's round (excluded_from_gates) is kept, never compared, never stored."""
    from pytest_kokoro.runner.cases import CaseRunner, baseline_cases
    from pytest_kokoro.runner.records import Case, CaseRecord

    good = {"real_time_factor": 0.5, "excluded_from_gates": []}
    hot = {"real_time_factor": 0.9, "excluded_from_gates": ["thermal_state_before_serious"]}
    record = CaseRecord(Case("bf16", "af_heart", "short", "Hi."), "t[c]", [good, hot, good], first_rounds=3,
                        passed=True)
    stored, failed = baseline_cases([record])
    assert stored == [("bf16-af_heart-short", [good, good])] and failed == []

    class Keeper:
        def compare(self, case_id, results):
            return ("stored", results)

        def compare_interleaved(self, baseline, candidate):
            return ("paired", baseline, candidate)

    case = record.case
    assert CaseRunner(None, Keeper())._compare(case, [good, hot, good], []) == ("stored", [good, good])
    paired = CaseRunner(None, Keeper(), ab_baseline=object())._compare(case, [good, good, hot], [hot, good, good])
    assert paired == ("paired", [good], [good])  # a pair goes when either of its rounds is left out
