"""The front-end fuzz level's rules and its two checkers, and benchmarks/test_fuzz_front_end.py as users run it."""

import shutil
import sys

import pytest

from pytest_kokoro.core.protocol import as_received
from pytest_kokoro.core.sentences import split_sentences
from pytest_kokoro.fuzz.front_end import SwiftSplitter, SwiftSplitterError, front_end_problems, host_front_end
from pytest_kokoro.harness.onnx_engine import MAX_TOKENS, EngineError, OnnxKokoroEngine
from tests.conftest import ROOT

needs_swift = pytest.mark.skipif(shutil.which("swift") is None, reason="needs the Swift toolchain")


def test_chunks_within_the_token_limit_or_a_text_error_are_right_answers():
    assert front_end_problems([[1] * MAX_TOKENS, [2]]) == []
    assert front_end_problems(EngineError("text_too_long", "long")) == []
    assert front_end_problems([[1], [1] * (MAX_TOKENS + 1)]) == [f"chunk 1 has 511 tokens, over Kokoro's {MAX_TOKENS}"]
    assert front_end_problems(EngineError("internal", "boom")) == ["[internal] is no text error: boom"]


@pytest.fixture(scope="module")
def engine():
    engine = OnnxKokoroEngine()
    engine.load("int8")
    return engine


@pytest.mark.parametrize("text,code", [("", "empty_text"), (" \x1b[31m\x00 ", "empty_text"), ("♪ |||", "unspeakable_text")])
def test_the_host_front_end_raises_what_a_run_raises(engine, text, code):
    with pytest.raises(EngineError) as error:
        host_front_end(engine, text, "jf_alpha")
    assert error.value.code == code


def test_the_host_front_end_gives_tokens_per_chunk(engine):
    tokens = host_front_end(engine, "Hello there. How are you?", "jf_alpha")
    assert len(tokens) == 2 and all(0 < len(chunk) <= MAX_TOKENS for chunk in tokens)


@needs_swift
def test_the_swift_splitter_answers_one_text_at_a_time_like_python():
    from pytest_kokoro.devices.subprocess import swift_harness_binary

    splitter = SwiftSplitter(swift_harness_binary())
    try:
        for text in ["Mr. Smith met Dr. Jones. They talked.", "", "a\udc00b. C", "x" * 800]:
            assert splitter.split(text) == split_sentences(as_received(text))
    finally:
        splitter.close()


def test_a_dead_splitter_is_reported_with_the_text(tmp_path):
    dead = tmp_path / "dead"
    dead.write_text(f"#!{sys.executable}\nimport sys\nsys.stdin.readline()\nsys.exit(3)\n")
    dead.chmod(0o755)
    splitter = SwiftSplitter(dead)
    with pytest.raises(SwiftSplitterError, match=r"exited \(status .*\) on 'Hello.'"):
        splitter.split("Hello.")
    splitter.close()


FRONT_END = (ROOT / "benchmarks" / "test_fuzz_front_end.py").read_text()
# A splitter with a bug the differential test must find: it never splits and never cleans.
# Speaks --split-batch as the real CLI does (a JSON string, or {"text", "split", "pace"}), and is wrong: one chunk.
WRONG_SPLITTER = f"""#!{sys.executable}
import json, sys
for line in sys.stdin:
    request = json.loads(line)
    text = (request if isinstance(request, str) else request["text"]).strip()
    print(json.dumps([text] if text else []), flush=True)
"""


@pytest.fixture
def front_end(pytester, monkeypatch):
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "ci")
    monkeypatch.setenv("KOKORO_FUZZ_MAX_EXAMPLES", "20")
    pytester.makepyfile(test_fuzz_front_end=FRONT_END)
    return pytester


@needs_swift
def test_both_front_end_fuzz_tests_pass_as_users_run_them(front_end):
    front_end.runpytest_subprocess("--hypothesis-seed=3").assert_outcomes(passed=2)


@needs_swift  # the test is skipped without the toolchain, whatever binary stands in
def test_the_differential_test_finds_a_splitter_that_disagrees(front_end, monkeypatch):
    monkeypatch.setenv("KOKORO_FUZZ_MAX_EXAMPLES", "200")
    wrong = front_end.path / "wrong_splitter"
    wrong.write_text(WRONG_SPLITTER)
    wrong.chmod(0o755)
    front_end.makeconftest(f"""
import pytest_kokoro.devices.subprocess as devices
from pathlib import Path
devices.swift_harness_binary = lambda build=True: Path({str(wrong)!r})
""")
    result = front_end.runpytest_subprocess("-k", "splitters")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*splitters_agree*", "*AssertionError*"])
