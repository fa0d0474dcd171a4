"""The run's family of verdicts: Holm's first step in each case, its later steps at the end, the re-check, and gates
that could never fail refused up front."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_kokoro.gates.baselines import BaselineStore, DeviceIdentity
from pytest_kokoro.gates.keeper import GateKeeper, GateSetupError
from pytest_kokoro.gates.spec import GateSpec, parse_gate_spec
from pytest_kokoro.gates.verdicts import (
    IMPROVEMENT,
    PAIRED_TEST,
    REGRESSION,
    UNCHANGED,
    UNPAIRED_TEST,
    Comparison,
    compare_paired,
    compare_unpaired,
)


def keeper(tmp_path, spec: GateSpec | None = None, paired: bool = True, cases: int = 1) -> GateKeeper:
    gate = GateKeeper(BaselineStore(tmp_path), spec or GateSpec(), None if paired else "main", None, paired=paired)
    gate.set_family(cases)
    return gate


def comparison(metric: str, p_regression: float, p_improvement: float = 0.9, ratio: float = 1.3) -> Comparison:
    return Comparison(metric, 1.0, ratio, ratio, p_regression, p_improvement, 0.10, 12, 12, PAIRED_TEST)


def test_the_family_is_every_case_times_every_gated_metric(tmp_path):
    gate = keeper(tmp_path, cases=20)
    assert gate.family_size == 40
    assert gate.first_step_level == pytest.approx(0.01 / 40)
    assert keeper(tmp_path, parse_gate_spec("ttfa=off"), cases=20).family_size == 20


@pytest.mark.parametrize("paired,rounds,needed", [(True, 5, 8), (True, 7, 8), (False, 4, 5)])
def test_rounds_that_can_never_fail_stop_the_run_with_the_number_needed(tmp_path, paired, rounds, needed):
    gate = keeper(tmp_path, paired=paired)
    problem = gate.rounds_problem(rounds)
    assert f"--kokoro-rounds {rounds} is too few" in problem
    assert f"Use --kokoro-rounds {needed} or more" in problem
    assert gate.rounds_problem(needed) is None


def test_more_cases_need_more_rounds(tmp_path):
    assert keeper(tmp_path, cases=1).rounds_problem(8) is None
    assert "Use --kokoro-rounds 13 or more" in keeper(tmp_path, cases=40).rounds_problem(8)  # 2^-13 < 0.01 / 80


def test_no_gate_no_rounds_problem(tmp_path):
    gate = GateKeeper(BaselineStore(tmp_path), GateSpec(), None, None)
    gate.set_family(3)
    assert not gate.gating and gate.rounds_problem(1) is None


def test_a_case_fails_at_holms_first_step(tmp_path):
    gate = keeper(tmp_path)  # K = 2: level 0.005
    first = [comparison("rtf", 0.004), comparison("ttfa", 0.006)]
    recheck = [comparison("rtf", 0.001), comparison("ttfa", 0.001)]
    verdicts = [j.verdict for j in gate.decide("case", first, recheck)]
    assert [v.verdict for v in verdicts] == [REGRESSION, UNCHANGED]
    assert verdicts[0].level == pytest.approx(0.005)


def test_only_what_regresses_in_both_measurements_counts(tmp_path):
    """rtf regresses only in the first measurement, ttfa only in the re-check: neither is a regression (the old
    gate judged the re-check alone and reported ttfa as confirmed)."""
    gate = keeper(tmp_path)
    first = [comparison("rtf", 1e-5), comparison("ttfa", 0.4)]
    recheck = [comparison("rtf", 0.3), comparison("ttfa", 1e-5)]
    judgements = gate.decide("case", first, recheck)
    assert [j.verdict.verdict for j in judgements] == [UNCHANGED, UNCHANGED]
    assert "p of the first measurement 1e-05, of the re-check 0.3 (a regression must show in both)" in \
        judgements[0].message
    assert gate.needs_recheck(first) and not gate.needs_recheck([comparison("rtf", 0.02)])


def test_holm_steps_down_at_the_end_of_the_run(tmp_path):
    gate = keeper(tmp_path, cases=2)  # K = 4: levels 0.0025, 0.0033, 0.005, 0.01
    both = [comparison("rtf", 0.001), comparison("ttfa", 0.003)]
    gate.decide("a", both, both)
    later = [comparison("rtf", 0.004), comparison("ttfa", 0.2)]
    gate.decide("b", later, later)
    assert [j.verdict.verdict for j in gate.judgements["a"]] == [REGRESSION, UNCHANGED]
    newly = gate.step_down()
    assert [(case, j.verdict.metric) for case, j in newly] == [("a", "ttfa"), ("b", "rtf")]
    assert "regressed at the end of the run (Holm step-down)" in newly[0][1].message
    assert [j.verdict.verdict for j in gate.judgements["b"]] == [REGRESSION, UNCHANGED]


def test_no_first_step_rejection_no_step_down(tmp_path):
    gate = keeper(tmp_path, cases=2)
    gate.decide("a", [comparison("rtf", 0.003), comparison("ttfa", 0.004)],
                [comparison("rtf", 0.003), comparison("ttfa", 0.004)])
    assert gate.step_down() == []


def test_improvements_are_reported_at_the_same_level(tmp_path):
    gate = keeper(tmp_path)
    [judgement] = gate.decide("case", [comparison("rtf", 0.99, p_improvement=0.001, ratio=0.7)])[:1]
    assert judgement.verdict.verdict == IMPROVEMENT
    assert "more than 10% faster" in judgement.message


def test_the_a_b_gate_judges_pairs_against_the_threshold_not_against_zero(tmp_path):
    """The issue's A/A case: arms 6% apart with a tiny 'slower at all' p must not fail a 10% gate."""
    rng = np.random.default_rng(3)
    baseline = 1.0 * np.exp(rng.normal(0, 0.01, 12))
    candidate = baseline * 1.06 * np.exp(rng.normal(0, 0.005, 12))
    gate = keeper(tmp_path)
    base_rounds = [{"real_time_factor": b, "time_to_first_audio": b} for b in baseline]
    cand_rounds = [{"real_time_factor": c, "time_to_first_audio": c} for c in candidate]
    first = gate.compare_interleaved(base_rounds, cand_rounds)
    assert compare_paired("rtf", list(baseline), list(candidate), 0.0).p_regression < 0.001
    assert all(c.p_regression > 0.99 for c in first)
    assert not gate.needs_recheck(first)


def test_a_stored_baseline_with_too_few_rounds_is_refused(tmp_path):
    store = BaselineStore(tmp_path)
    identity = {"device_model": "x86_64", "os_version": "6", "harness_version": "0.1.0", "engine": "onnx"}
    store.save("main", DeviceIdentity(**identity), {"c": {"rtf": [0.3, 0.31, 0.29], "ttfa": [0.5, 0.5, 0.52]}})
    gate = GateKeeper(store, GateSpec(), "main", None)
    gate.set_family(1)
    results = [{**identity, "real_time_factor": 0.3, "time_to_first_audio": 0.5} for _ in range(5)]
    with pytest.raises(GateSetupError, match="has 3 rtf rounds of c: with this run's 5 no verdict could reach"):
        gate.compare("c", results)


def test_verdict_messages_name_the_question_and_the_level(tmp_path):
    gate = keeper(tmp_path, paired=False)
    base, slow = [1.0, 1.01, 0.99, 1.02, 0.98, 1.005], [1.3, 1.31, 1.29, 1.32, 1.28, 1.305]
    first = [compare_unpaired("rtf", base, slow, 0.10), compare_unpaired("ttfa", base, base, 0.15)]
    assert first[0].test == UNPAIRED_TEST
    rtf, ttfa = gate.decide("case", first, first)
    assert rtf.message.startswith("rtf regressed: median 1.3 vs baseline 1 (ratio of the medians ×1.30, +29.9%): more than 10% slower, "
                                  "Mann-Whitney p=0.0011 < 0.005 (alpha 0.01, Holm over 2 verdicts); both "
                                  "measurements: p=0.0011 and 0.0011")  # 1 / C(12, 6)
    assert ttfa.message.startswith("ttfa unchanged: median 1 vs baseline 1 (ratio of the medians ×1.00, +0.0%): not shown to be more "
                                   "than 15% slower (Mann-Whitney p=")
