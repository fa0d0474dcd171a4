"""A harness that dies, hangs, writes garbage or closes its stream: the case fails clearly, a fresh harness serves
the rest, and everything measured before the fault is on disk. The faulty harness is SIMULATED (scripted engine)."""

import json
import sys

import pytest

from pytest_kokoro.devices.subprocess import SubprocessDevice
from pytest_kokoro.runner.records import Case, Settings
from pytest_kokoro.runner.results import ResultsWriter
from pytest_kokoro.runner.session import CaseFailed, CaseUnavailable, KokoroSession
from tests.conftest import ROOT, results_of

CASE = Case("int8", "jf_alpha", "short", "Hello there. How are you? Fine.")


def make_session(tmp_path, *args, timeout=30.0):
    starts = []

    def make_device():
        starts.append(1)
        return SubprocessDevice("faulty", [sys.executable, str(ROOT / "tests" / "support" / "faulty_harness.py"), *args,
                                           "--state", str(tmp_path / "spent")], tmp_path / "faulty.log")

    session = KokoroSession(Settings("faulty", rounds=1, warmup=True, timeout=timeout), make_device,
                            ResultsWriter(tmp_path, "results.json"))
    return session, starts


@pytest.mark.parametrize("fault,needle,timeout", [
    ("crash", "closed its stream", 30.0),
    ("close", "closed its stream", 30.0),
    ("garbage", "not JSON", 30.0),
    ("hang", "sent nothing for 1 s", 1.0),
])
def test_a_fault_fails_one_case_and_a_fresh_harness_serves_the_next(tmp_path, fault, needle, timeout):
    session, starts = make_session(tmp_path, "--fault", fault, "--on-run", "2", timeout=timeout)
    try:
        session.run_round(CASE, 0, "t::a")  # measured before the fault
        with pytest.raises(CaseFailed) as caught:
            session.run_round(CASE, 1, "t::a")
        assert needle in str(caught.value) and "a fresh harness takes the next test" in str(caught.value)
        assert "faulty.log" in str(caught.value) or fault == "hang"
        outcome, problems = session.run_round(CASE, 0, "t::b")
        assert problems == [] and outcome.result["chunk_count"] == 3
    finally:
        session.close()
    assert len(starts) == 2
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert [r["case"] for r in on_disk] == [CASE.id, CASE.id] and len(session.faults) == 1


def test_an_error_event_keeps_the_same_harness(tmp_path):
    session, starts = make_session(tmp_path)
    try:
        with pytest.raises(CaseFailed, match="unknown_voice"):
            session.run_round(Case("int8", "nope", "t", "Hi there."), 0, "t::a")
        session.run_round(CASE, 0, "t::b")
    finally:
        session.close()
    assert len(starts) == 1


def test_missing_file_makes_a_case_unavailable(tmp_path):
    # The real host engine: fp16 was not given a file, so the case is unavailable with the option to pass.
    from pytest_kokoro.devices.subprocess import host_device

    session = KokoroSession(Settings("host", 1, True, 120.0), lambda: host_device(tmp_path, {}, None),
                            ResultsWriter(tmp_path, "r.json"))
    try:
        with pytest.raises(CaseUnavailable, match="--kokoro-model fp16=PATH"):
            session.run_round(Case("fp16", "jf_alpha", "t", "Hi."), 0, "t::a")
        with pytest.raises(CaseUnavailable, match="--kokoro-voice-pack"):
            session.run_round(Case("int8", "af_heart", "t", "Hi."), 0, "t::a")
    finally:
        session.close()


def test_one_run_survives_every_kind_of_fault_in_a_row(tmp_path):
    """Four faults injected into one session (crash, hang, garbage, closed stream): four failed rounds, four fresh
    harnesses, and every other round measured and on disk."""
    session, starts = make_session(tmp_path, "--fault-sequence", "crash,hang,garbage,close", "--on-run", "2",
                                   timeout=2.0)
    outcomes = []
    try:
        for attempt in range(10):
            try:
                session.run_round(CASE, attempt, "t::a")
                outcomes.append("ok")
            except CaseFailed:
                outcomes.append("fault")
    finally:
        session.close()
    assert outcomes == ["ok", "fault"] * 4 + ["ok", "ok"]
    assert len(starts) == 5 and len(session.faults) == 4
    assert len(json.loads((tmp_path / "results.json").read_text())) == 6


def test_an_ab_baseline_command_imports_its_own_checkout_not_this_one(tmp_path, monkeypatch):
    """`python -m pytest_kokoro.harness` puts the working directory first on sys.path: the baseline command must not
    run here, or the 'baseline' would be this checkout's harness."""
    from pytest_kokoro.devices.subprocess import command_device

    base = tmp_path / "base" / "pytest_kokoro"
    base.mkdir(parents=True)
    (base / "__init__.py").write_text("")
    (base / "harness.py").write_text("import sys\nprint(__file__)\n")
    monkeypatch.chdir(ROOT)
    device = command_device(f"env PYTHONPATH={tmp_path / 'base'} {sys.executable} -m pytest_kokoro.harness",
                            tmp_path / "results", "ab")
    import subprocess

    printed = subprocess.run(device.command, cwd=device.cwd, capture_output=True, text=True).stdout.strip()
    assert printed == str(base / "harness.py")


FAULTY_CONFTEST = f"""
import os
import sys

import pytest_kokoro.devices.subprocess as local
from pytest_kokoro.devices.subprocess import SubprocessDevice

def faulty_host_device(results_dir, models, voice_pack, engine="onnxruntime"):
    args = os.environ["FAULTY_HARNESS_ARGS"].split()
    return SubprocessDevice("host", [sys.executable, {str(ROOT / "tests" / "support" / "faulty_harness.py")!r}, *args],
                            results_dir / "logs" / "faulty-harness.log")

local.host_device = faulty_host_device
"""


@pytest.mark.parametrize("fault,timeout,message", [
    ("crash", 30, "the harness closed its stream mid-request*exit status 137*a fresh harness takes the next test"),
    ("hang", 2, "the harness sent nothing for 2 s*a fresh harness takes the next test"),
])
def test_a_fault_in_a_pytest_run_fails_that_test_only_and_keeps_every_measured_round(pytester, monkeypatch, fault,
                                                                                       timeout, message):
    """As users meet it: `pytest benchmarks/` with a (SIMULATED) harness that dies or hangs in the 2nd round of the
    2nd case. That test fails with a clear message, the 3rd case runs on a fresh harness, and the results file holds
    every round measured before and after the fault."""
    monkeypatch.setenv("FAULTY_HARNESS_ARGS", f"--fault {fault} --on-run 4 --state {pytester.path / 'spent'}")
    pytester.makepyfile(test_kokoro=(ROOT / "benchmarks" / "test_kokoro.py").read_text())
    pytester.makeconftest(FAULTY_CONFTEST)
    result = pytester.runpytest_subprocess("--kokoro-texts=short,default,paragraph", "--kokoro-rounds=2",
                                           f"--kokoro-timeout={timeout}", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    # The message alone, once, with no traceback and no chain of exceptions around it.
    result.stdout.fnmatch_lines(["*_ test_streaming_tts?int8-jf_alpha-default? _*",
                                 f"int8-jf_alpha-default round 1: host: {message}", "=*= kokoro =*="], consecutive=True)
    assert "The above exception" not in result.stdout.str() and "During handling" not in result.stdout.str()
    rounds = [(r["case"].rsplit("-", 1)[-1], r["round"]) for r in results_of(pytester)[1]]
    assert rounds == [("short", 0), ("short", 1), ("default", 0), ("paragraph", 0), ("paragraph", 1)]
    assert (pytester.path / "results" / "logs" / "faulty-harness.log").exists()
