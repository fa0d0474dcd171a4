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
