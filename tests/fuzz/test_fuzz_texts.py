"""The fuzz strategies generate every category; lone surrogates go over the wire safely; the fuzz rules judge right."""

import json
import os
import string
import subprocess
import sys
import unicodedata

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from pytest_kokoro.core import protocol
from pytest_kokoro.devices.client import HarnessError, RunOutcome
from pytest_kokoro.fuzz import texts as ft
from pytest_kokoro.fuzz.profiles import MAX_EXAMPLES_ENV, error_problems, profile_settings, result_problems
from pytest_kokoro.harness.server import Harness
from tests.support.scripted_engine import ScriptedEngine

FIND = settings(max_examples=2000, database=None, suppress_health_check=list(HealthCheck))


def _is_surrogate(ch):
    return 0xD800 <= ord(ch) <= 0xDFFF


CATEGORY_SIGNS = {
    "empty": lambda t: t == "",
    "whitespace": lambda t: t != "" and t.strip() == "" and "\n" in t,
    "punctuation": lambda t: len(t) > 2 and all(unicodedata.category(c).startswith("P") for c in t),
    "emoji": lambda t: "\u200d" in t and any(unicodedata.category(c) == "So" for c in t),
    "control": lambda t: "\x00" in t and any(c.isalpha() for c in t),
    "ansi": lambda t: "\x1b[" in t,
    "lone_surrogates": lambda t: any(_is_surrogate(c) for c in t),
    "scripts": lambda t: any(unicodedata.bidirectional(c) in ("R", "AL") for c in t),
    "long": lambda t: len(t) >= ft.LONG_MIN_CHARS and not any(c in t for c in ".!?…。！？"),
    "numbers": lambda t: any(c.isdigit() for c in t),
    "markup": lambda t: "<" in t and ">" in t,
    "mixed": lambda t: any(s in t for s in ft.NORMAL_SENTENCES) and any(not (c.isascii() and c.isprintable()) for c in t),
}


@pytest.mark.parametrize("name", list(CATEGORY_SIGNS))
def test_each_category_generates_its_kind_and_the_union_reaches_it(name):
    sign = CATEGORY_SIGNS[name]
    assert sign(find(ft.CATEGORIES[name], sign, settings=FIND))
    assert sign(find(ft.fuzz_texts(), sign, settings=FIND))


def test_every_category_has_a_sign():
    assert set(CATEGORY_SIGNS) == set(ft.CATEGORIES)


@settings(max_examples=60, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_sizes_stay_bounded_so_an_example_costs_seconds(data):
    long_text = data.draw(ft.long_text)
    assert ft.LONG_MIN_CHARS <= len(long_text) <= ft.LONG_MAX_CHARS + 10
    assert sum(c in string.ascii_letters for c in long_text) <= ft.LONG_SPEAKABLE_BUDGET
    short = data.draw(ft.CATEGORIES["mixed"])
    assert len(short) < 1000


@settings(max_examples=200, database=None)
@given(st.text())
def test_any_text_encodes_to_valid_utf8_and_arrives_without_surrogates(text):
    line = protocol.encode(protocol.request("run", id="r", text=text, voice="v", variant="x"))
    line.decode("utf-8")  # strict: raises on invalid UTF-8
    received = protocol.parse_request(line).text
    assert received == protocol.as_received(text)
    assert not any(_is_surrogate(c) for c in received)


def test_lone_surrogates_are_escaped_and_pairs_follow_json():
    line = protocol.encode({"text": "a\ud800b"})
    assert line == b'{"text": "a\\ud800b"}\n'
    assert protocol.as_received("a\ud800b") == "ab"
    assert protocol.as_received("\ud83d\ude00") == "\U0001F600"  # an escaped pair is the character it encodes


def test_the_python_harness_answers_a_surrogate_text_with_a_result_not_an_internal_error():
    events = []
    harness = Harness(ScriptedEngine(), lambda event: events.append(json.loads(protocol.encode(event))))
    harness.handle_line(protocol.encode({"type": "run", "id": "r1", "text": "Hello \udc00there.", "voice": "jf_alpha",
                                         "variant": "int8"}))
    assert [e["type"] for e in events] == ["chunk", "done"], events
    assert events[-1]["result"]["text"] == "Hello there."


def test_profiles(monkeypatch):
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    monkeypatch.delenv(MAX_EXAMPLES_ENV, raising=False)
    ci = profile_settings(None)
    assert (ci.max_examples, ci.deadline, ci.derandomize) == (25, None, False)
    assert ci.database is not None, "failing examples must be kept"
    assert profile_settings("nightly").max_examples == 500
    assert profile_settings("nightly", "swift_harness").max_examples == 5_000
    assert profile_settings("nightly", "front_end").max_examples == 10_000
    assert profile_settings("nightly", "splitters").max_examples == 10_000
    assert profile_settings("ci", "front_end").max_examples == 100
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "nightly")
    assert profile_settings(None).max_examples == 500
    assert profile_settings("ci").max_examples == 25, "the option wins over the environment"
    monkeypatch.setenv(MAX_EXAMPLES_ENV, "5")
    assert profile_settings(None).max_examples == 5
    monkeypatch.setenv(MAX_EXAMPLES_ENV, "five")
    with pytest.raises(ValueError, match="positive number"):
        profile_settings(None)
    with pytest.raises(ValueError, match="unknown fuzz profile 'weekly': use ci or nightly"):
        profile_settings("weekly")


@pytest.mark.parametrize("ci_env", [{"CI": "true"}, {"GITHUB_ACTIONS": "true"}, {}])
def test_failing_examples_are_kept_on_ci_servers_too(ci_env):
    # Hypothesis activates its own "ci" profile (database=None) when it sees a CI variable at import time, so this
    # runs in a fresh interpreter with that environment.
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS", "HYPOTHESIS_PROFILE")}
    probe = ("from pytest_kokoro.fuzz.profiles import profile_settings; import hypothesis; "
             "print(hypothesis.settings.default.database is None, profile_settings(None).database is None)")
    out = subprocess.run([sys.executable, "-c", probe], env={**env, **ci_env}, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[1] == "False", f"under {ci_env or 'no CI variable'} the fuzz profile drops failing examples"
    if ci_env:  # the condition this guards against is real: hypothesis itself keeps nothing there
        assert out[0] == "True"


def _error(code, fatal=False):
    return HarnessError({"type": "error", "id": "r1", "code": code, "message": "m", "fatal": fatal})


@pytest.mark.parametrize("code,text,ok", [
    ("empty_text", "", True),
    ("text_too_long", "漢" * 350, True),
    ("internal", "Hi.", False),
    ("engine_error", "Hi.", False),
    ("bad_json", "Hi \ud800.", True),
    ("bad_json", "Hi.", False),
    ("unspeakable_text", "   ", False),  # a text that cleans to nothing must be empty_text
])
def test_error_answers(code, text, ok):
    assert (error_problems(_error(code), text) == []) is ok


def test_a_fatal_error_is_never_an_answer():
    assert error_problems(_error("empty_text", fatal=True), "") != []


def _outcome(text, audio, chunk_text=None):
    events = []
    Harness(ScriptedEngine(), events.append).handle_line(protocol.encode(
        {"type": "run", "id": "r1", "text": text, "voice": "jf_alpha", "variant": "int8", "send_audio": True}))
    chunks = [e for e in events if e["type"] == "chunk"]
    if chunk_text is not None:
        chunks[0] = {**chunks[0], "text": chunk_text}
    pcm = np.concatenate([protocol.decode_audio(e) for e in events if e["type"] == "audio"])
    return RunOutcome(events[-1]["result"], chunks, audio(pcm) if audio else pcm)


def test_result_rules_pass_a_good_result_and_catch_bad_audio_and_chunks():
    assert result_problems(_outcome("Hello there. Bye now.", None), "Hello there. Bye now.") == []
    bad = result_problems(_outcome("Hello there.", lambda pcm: np.where(np.arange(pcm.size) == 3, np.nan, pcm * 3)),
                          "Hello there.")
    assert any("NaN" in p for p in bad) and any("outside [-1, 1]" in p for p in bad)
    assert any("shared splitter" in p for p in result_problems(_outcome("Hello there.", None, "Hello"), "Hello there."))
