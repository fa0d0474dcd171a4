"""Fuzz the text front end, with no model call (docs/fuzzing.md): thousands of texts in seconds to minutes.

- The host front end (cleaning, splitting, phonemizing with espeak-ng, tokenizing): every text ends in chunks the
  model accepts (at most 510 tokens each) or in a typed text error; nothing else is raised.
- The Python and Swift splitters agree on every text, under every split strategy, adaptive with a random device
  pace (one KokoroBenchHarness --split-batch process for all).

    pytest benchmarks/test_fuzz_front_end.py --kokoro-fuzz-profile=ci|nightly     # nightly: 10,000 texts each

Opt-in and run last, like benchmarks/test_fuzz.py.
"""

import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_kokoro.core import protocol
from pytest_kokoro.core.pace import Pace
from pytest_kokoro.core.sentences import SPLIT_STRATEGIES, split_sentences, split_text
from pytest_kokoro.devices.subprocess import swift_harness_binary
from pytest_kokoro.fuzz.front_end import SwiftSplitter, front_end_problems, host_front_end
from pytest_kokoro.fuzz.profiles import profile_settings
from pytest_kokoro.fuzz.texts import fuzz_texts
from pytest_kokoro.harness.onnx_engine import EngineError, OnnxKokoroEngine
from pytest_kokoro.plugin import RUN_KEY, fail
from pytest_kokoro.plugin.options import option

pytestmark = pytest.mark.kokoro_fuzz


# Devices from a phone 20x faster than the host to one far slower than real time, in the pace's microseconds.
PACES = st.builds(Pace, compute_us_per_chunk=st.integers(0, 3_000_000), compute_us_per_char=st.integers(1, 200_000),
                  audio_us_per_chunk=st.integers(0, 2_000_000), audio_us_per_char=st.integers(1, 150_000))


def settings_for(request, level):
    try:
        return profile_settings(option(request.config, "kokoro_fuzz_profile"), level)
    except ValueError as error:
        fail(str(error))


def test_every_text_ends_in_chunks_the_model_accepts_or_a_text_error(request):
    fuzz_settings = settings_for(request, "front_end")
    engine = OnnxKokoroEngine()
    engine.load("int8")  # the tokenizer takes the model's own vocabulary; nothing is synthesized
    voice = next((case.voice for case in request.config.stash[RUN_KEY].cases if case.voice in engine.voices()),
                 "jf_alpha")

    texts = []

    @fuzz_settings
    @given(text=fuzz_texts())
    def front_end_answers(text):
        texts.append(text)
        try:
            answer = host_front_end(engine, text, voice)
        except EngineError as error:
            answer = error
        problems = front_end_problems(answer)
        assert not problems, f"{text!r}: " + "; ".join(problems)

    front_end_answers()
    print(f"{len(texts)} texts through the front end")


@pytest.mark.skipif(shutil.which("swift") is None, reason="needs the Swift toolchain (swift build)")
def test_python_and_swift_splitters_agree(request):
    fuzz_settings = settings_for(request, "splitters")
    splitter = SwiftSplitter(swift_harness_binary())
    try:
        texts = []

        @fuzz_settings
        @given(text=fuzz_texts(), strategy=st.sampled_from([None, *SPLIT_STRATEGIES]), pace=PACES)
        def splitters_agree(text, strategy, pace):
            texts.append(text)
            if strategy is None:  # the sentence rule, as the Swift harness splits a run
                assert splitter.split(text) == split_sentences(protocol.as_received(text)), repr(text)
            else:
                expected = split_text(protocol.as_received(text), strategy, pace=pace)
                assert splitter.split(text, strategy, pace) == expected, (repr(text), strategy, pace)

        splitters_agree()
        print(f"{len(texts)} texts through both splitters")
    finally:
        splitter.close()
