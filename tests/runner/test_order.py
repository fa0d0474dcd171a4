"""Interleaved order: the compared cases of one voice × text take turns, the order reversing every round; every
round records where it stood and what ran before it; a case that fails leaves the others measuring."""

from __future__ import annotations

import json
import shutil

import pytest

from pytest_kokoro.runner.order import Cooldown, InterleavedGroups, sequence
from pytest_kokoro.runner.records import Case
from pytest_kokoro.runner.session import CaseFailed
from tests.conftest import ROOT

SUITE = (ROOT / "benchmarks" / "test_kokoro.py").read_text()


class RecordingRunner:
    """Stands in for CaseRunner.measure: records the calls, fails one case on cue."""

    def __init__(self, calls: list, fail_on: str | None = None):
        self.calls = calls
        self.fail_on = fail_on

    def measure(self, case, nodeid, first_round, count, order):
        self.calls.append((case.variant, first_round, order["order_position"]))
        if case.variant == self.fail_on and first_round == 1:
            raise CaseFailed(f"{case.id} round 1: the harness closed its stream")
        return [{"variant": case.variant, "round": first_round}], [], []


def test_sequence_reverses_every_round():
    assert [sequence("ABC", r) for r in range(3)] == [list("ABC"), list("CBA"), list("ABC")]


def test_a_group_is_measured_round_robin_and_each_case_gets_its_own_rounds():
    calls: list = []
    cases = {f"t[{v}]": Case(v, "jf_alpha", "short", "Hi there.") for v in ("bf16", "8bit", "4bit")}
    groups = InterleavedGroups(rounds=3)
    for nodeid, case in cases.items():
        groups.add(case, nodeid)
    assert groups.compares()
    runner = RecordingRunner(calls, fail_on="8bit")
    first = groups.first_measurement(cases["t[bf16]"], "t[bf16]", lambda n: (cases[n], runner))
    assert calls == [("bf16", 0, 0), ("8bit", 0, 1), ("4bit", 0, 2),
                     ("4bit", 1, 0), ("8bit", 1, 1), ("bf16", 1, 2),
                     ("bf16", 2, 0), ("4bit", 2, 2)]  # 8bit failed in round 1 and sits out; the others go on
    assert [r["round"] for r in first[0]] == [0, 1, 2]
    with pytest.raises(CaseFailed, match="8bit-jf_alpha-short round 1"):
        groups.first_measurement(cases["t[8bit]"], "t[8bit]", lambda n: (cases[n], runner))
    assert [r["round"] for r in groups.first_measurement(cases["t[4bit]"], "t[4bit]", None)[0]] == [0, 1, 2]
    assert len(calls) == 8  # measured once, handed out


def test_a_cooldown_waits_and_says_so():
    said, slept = [], []
    Cooldown(12, said.append, slept.append)(None, Case("bf16", "v", "t", "x"), 3)
    assert slept == [5, 5, 2] and said[0] == "kokoro: cooling down 12 s before bf16-v-t round 3"


@pytest.mark.skipif(shutil.which("swift") is None, reason="needs the Swift toolchain (the SIMULATED scripted CLI)")
@pytest.mark.parametrize("order", ["interleaved", "grouped"])
def test_the_results_file_shows_the_order_rounds_ran_in(pytester, order):
    """SIMULATED scripted engine through the Swift CLI: two variants of one text, 2 rounds each."""
    pytester.makepyfile(test_kokoro=SUITE)
    args = ["-p", "no:randomly", "--kokoro-device=swift", "--kokoro-engine=scripted", "--kokoro-variants=bf16,4bit",
            "--kokoro-texts=short", "--kokoro-rounds=2", "--kokoro-cooldown=0.1"]
    result = pytester.runpytest_subprocess(*args, *(["--kokoro-order=grouped"] if order == "grouped" else []))
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*kokoro: cooling down 0.1 s before bf16-af_heart-short round 0*"])
    rows = json.loads(next((pytester.path / "results").glob("benchmark_results_*.json")).read_text())
    ran = [(r["variant"], r["round"]) for r in rows]
    if order == "interleaved":
        assert ran == [("bf16", 0), ("4bit", 0), ("4bit", 1), ("bf16", 1)]
        assert [r["order_position"] for r in rows] == [0, 1, 0, 1]
    else:
        assert ran == [("bf16", 0), ("bf16", 1), ("4bit", 0), ("4bit", 1)]
    assert {r["order"] for r in rows} == {order}
    assert rows[0]["previous_round"] is None
    assert all(r["previous_round"] == f"{p['case']} round {p['round']}" for p, r in zip(rows, rows[1:]))


def test_a_long_round_says_how_it_goes_at_most_every_so_often():
    from pytest_kokoro.runner.session import Progress

    said, now = [], [0.0]
    progress = Progress(said.append, every=15.0, clock=lambda: now[0])
    progress.start("int8-jf_alpha-long round 0")
    for index, t in enumerate([5.0, 14.0, 16.0, 20.0, 40.0]):
        now[0] = t
        progress.chunk({"index": index})
    assert said == ["kokoro: int8-jf_alpha-long round 0: 3 chunk(s) done, 16 s in",
                    "kokoro: int8-jf_alpha-long round 0: 5 chunk(s) done, 40 s in"]
