"""benchmarks/test_fuzz.py as users run it (pytester): it passes on the real host harness and on the Swift CLI, it is
not part of the benchmark matrix, and a harness that crashes on odd text fails it with the input, kept for replay."""

import shutil

import pytest

from tests.conftest import ROOT

FUZZ = (ROOT / "benchmarks" / "test_fuzz.py").read_text()
BENCH = (ROOT / "benchmarks" / "test_kokoro.py").read_text()

# A harness with a bug the fuzzer must find: it dies like a segfault on any control character but tab/newline.
BROKEN_HARNESS = f"""
import os, sys, json
sys.path.insert(0, {str(ROOT)!r})
from pytest_kokoro.core import protocol
from pytest_kokoro.harness.server import Harness, read_lines
from tests.support.scripted_engine import ScriptedEngine

out = sys.stdout.buffer
def emit(message):
    out.write(protocol.encode(message))
    out.flush()

harness = Harness(ScriptedEngine(), emit)
for line in read_lines(sys.stdin.buffer):
    text = json.loads(line).get("text", "")
    if any(ord(ch) < 32 and ch not in "\\t\\n" for ch in text):
        os._exit(139)
    if not harness.handle_line(line):
        break
"""
BROKEN_CONFTEST = """
import sys
from pathlib import Path

import pytest_kokoro.devices.subprocess as local
from pytest_kokoro.devices.subprocess import SubprocessDevice

def broken_host_device(results_dir, models, voice_pack, engine="onnxruntime"):
    script = Path(__file__).with_name("broken_harness.py")
    return SubprocessDevice("host", [sys.executable, str(script)], results_dir / "logs" / "broken-harness.log")

local.host_device = broken_host_device
"""


@pytest.fixture
def fuzz(pytester, monkeypatch):
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "ci")  # fuzzing is opt-in: a profile turns it on
    monkeypatch.setenv("KOKORO_FUZZ_MAX_EXAMPLES", "5")
    pytester.makepyfile(test_fuzz=FUZZ)
    return pytester


def test_fuzz_passes_on_the_real_host_harness_and_writes_no_results(fuzz):
    # Seed 5 draws an empty text, a long one, a number, a ZWJ emoji and ANSI escapes among words: cheap and varied.
    result = fuzz.runpytest_subprocess("--hypothesis-seed=5")
    result.assert_outcomes(passed=1)
    assert not list((fuzz.path / "results").glob("benchmark_results_*.json")), "fuzz runs are not benchmark results"


@pytest.mark.skipif(shutil.which("swift") is None, reason="needs the Swift toolchain")
def test_fuzz_passes_on_the_swift_cli(fuzz, monkeypatch):
    monkeypatch.setenv("KOKORO_FUZZ_MAX_EXAMPLES", "20")
    result = fuzz.runpytest_subprocess("--kokoro-device=swift", "--kokoro-engine=scripted", "--hypothesis-seed=1")
    result.assert_outcomes(passed=1)


def test_fuzz_is_one_test_beside_the_matrix(fuzz):
    fuzz.makepyfile(test_kokoro=BENCH)
    result = fuzz.runpytest("--collect-only", "-q", "--kokoro-texts=short,default")
    result.stdout.fnmatch_lines(["test_fuzz.py::test_odd_texts_never_break_the_harness", "3 tests collected*"])


def test_a_variant_without_its_model_file_skips_the_fuzz_test_with_the_reason(fuzz):
    result = fuzz.runpytest_subprocess("--kokoro-variants=fp16", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*SKIPPED*fp16/jf_alpha*--kokoro-model fp16=PATH*"])


def test_an_unknown_profile_is_a_usage_error_that_names_the_profiles(fuzz):
    result = fuzz.runpytest("--kokoro-fuzz-profile=weekly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--kokoro-fuzz-profile*unknown fuzz profile 'weekly': use ci or nightly*"])


def test_an_unknown_hypothesis_profile_fails_the_fuzz_test_with_the_names(fuzz, monkeypatch):
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "weekly")
    result = fuzz.runpytest()  # fails before any harness starts
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*unknown fuzz profile 'weekly': use ci or nightly*"])


def test_a_harness_that_crashes_on_odd_text_fails_with_the_input_kept_for_replay(fuzz, monkeypatch):
    monkeypatch.setenv("KOKORO_FUZZ_MAX_EXAMPLES", "60")
    fuzz.makepyfile(broken_harness=BROKEN_HARNESS)
    fuzz.makeconftest(BROKEN_CONFTEST)
    # No seed: hypothesis keeps failing examples only when it is not seeded. A control character but tab and
    # newline is in about one example in four, so 60 examples miss it with a chance of about 1e-8.
    result = fuzz.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the harness crashed, hung or wrote garbage on*exit status 139*",
                                 "*odd_text_is_answered(*"])
    assert any((fuzz.path / ".hypothesis" / "examples").rglob("*")), "the failing example was not kept"
    # The kept example is replayed first: the next run fails again even with one new example.
    monkeypatch.setenv("KOKORO_FUZZ_MAX_EXAMPLES", "1")
    again = fuzz.runpytest_subprocess()
    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines(["*exit status 139*"])


def test_fuzzing_is_opt_in_and_runs_after_the_benchmarks(fuzz, monkeypatch):
    monkeypatch.delenv("HYPOTHESIS_PROFILE")
    fuzz.makepyfile(test_kokoro=BENCH)
    result = fuzz.runpytest("--collect-only", "-q", "--kokoro-texts=short")
    result.stdout.fnmatch_lines(["test_kokoro.py::test_streaming_tts?int8-jf_alpha-short?",
                                 "test_fuzz.py::test_odd_texts_never_break_the_harness"])
    skipped = fuzz.runpytest("test_fuzz.py", "-rs")
    skipped.assert_outcomes(skipped=1)
    skipped.stdout.fnmatch_lines(["*fuzzing is opt-in: add --kokoro-fuzz-profile=ci*"])
