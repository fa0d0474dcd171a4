"""Texts that fuzzing once broke something with, by name (docs/fuzzing.md "What the fuzzing found"). Each runs in
every CI run, whether or not the hypothesis database that found it is still around."""

import json
import shutil

import pytest

from pytest_kokoro.core import protocol
from pytest_kokoro.core.sentences import split_sentences
from pytest_kokoro.fuzz.profiles import TEXT_ERROR_CODES
from pytest_kokoro.harness.server import Harness
from tests.support.scripted_engine import ScriptedEngine

REGRESSIONS = {
    # The client raised UnicodeEncodeError on a lone surrogate and took it for a dead harness; then the Python
    # harness kept the escaped surrogate and failed to encode its `done` event ("internal").
    "lone_surrogate_in_a_run": "Hello \udc00there.",
    "lone_high_surrogate_at_the_end": "It works! \ud800",
    # A surrogate pair is one character once escaped (JSON's rule): both harnesses must join it, not drop it.
    "surrogate_pair_as_two_code_points": "Smile \ud83d\ude00. Done.",
}


@pytest.mark.parametrize("text", REGRESSIONS.values(), ids=REGRESSIONS.keys())
def test_the_python_harness_answers_with_a_result_or_a_text_error(text):
    events = []
    harness = Harness(ScriptedEngine(), lambda event: events.append(json.loads(protocol.encode(event))))
    assert harness.handle_line(protocol.encode({"type": "run", "id": "r", "text": text, "voice": "jf_alpha",
                                                "variant": "int8"}))
    last = events[-1]
    assert last["type"] == "done" or (last["type"] == "error" and last["code"] in TEXT_ERROR_CODES), events
    if last["type"] == "done":
        assert last["result"]["text"] == protocol.as_received(text)
        assert [e["text"] for e in events if e["type"] == "chunk"] == split_sentences(protocol.as_received(text))


@pytest.mark.skipif(shutil.which("swift") is None, reason="needs the Swift toolchain")
def test_the_swift_splitter_agrees_on_every_regression_text():
    from pytest_kokoro.devices.subprocess import swift_harness_binary
    from pytest_kokoro.fuzz.front_end import SwiftSplitter

    splitter = SwiftSplitter(swift_harness_binary())
    try:
        for name, text in REGRESSIONS.items():
            assert splitter.split(text) == split_sentences(protocol.as_received(text)), name
    finally:
        splitter.close()
