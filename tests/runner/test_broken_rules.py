"""A round that breaks a result rule is kept on disk with the rules it broke (``broken_rules``), so the report can
mark it; a round that keeps them all says so with an empty list. The harness is SIMULATED (scripted engine)."""

import json
import sys

from pytest_kokoro.devices.subprocess import SubprocessDevice
from pytest_kokoro.runner.records import Case, Settings
from pytest_kokoro.runner.results import ResultsWriter
from pytest_kokoro.runner.session import KokoroSession
from tests.conftest import ROOT

CASE = Case("int8", "jf_alpha", "short", "Hello there. How are you? Fine.")


def run_one(tmp_path, *args):
    session = KokoroSession(
        Settings("faulty", rounds=1, warmup=True, timeout=30.0),
        lambda: SubprocessDevice("faulty", [sys.executable, str(ROOT / "tests" / "support" / "faulty_harness.py"),
                                            *args], tmp_path / "faulty.log"),
        ResultsWriter(tmp_path, "results.json"))
    try:
        _, problems = session.run_round(CASE, 0, "t::a")
    finally:
        session.close()
    return problems, json.loads((tmp_path / "results.json").read_text())


def test_a_round_that_breaks_a_rule_is_written_with_the_rules_it_broke(tmp_path):
    problems, on_disk = run_one(tmp_path, "--fault", "silent")
    assert problems and any("silent" in p for p in problems), problems
    assert [r["broken_rules"] for r in on_disk] == [problems]


def test_a_round_that_keeps_the_rules_is_written_with_an_empty_list(tmp_path):
    problems, on_disk = run_one(tmp_path)
    assert problems == []
    assert [r["broken_rules"] for r in on_disk] == [[]]
    assert list(on_disk[0])[-1] == "broken_rules"  # after the 14 reference keys and the harness's, as documented
