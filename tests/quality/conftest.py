import numpy as np
import pytest

from tests.quality.corpus import Speech

DEFAULT_TEXT = ("Hello, this is a benchmark test of the Kokoro text-to-speech system. We are testing different model "
                "quantization levels for performance and quality.")


@pytest.fixture(scope="session")
def host_speech() -> Speech:
    """The real Kokoro-82M int8 model reading the reference's default text in jf_alpha, chunk by chunk as the host
    harness does (one synthesis per test session: about 10 s of audio)."""
    from pytest_kokoro.core.sentences import split_text
    from pytest_kokoro.harness.onnx_engine import OnnxKokoroEngine

    engine = OnnxKokoroEngine()
    engine.load("int8")
    voice = engine.voice("jf_alpha")
    chunks = split_text(DEFAULT_TEXT, "sentences")
    audio = [engine.synthesize("int8", chunk, voice, "jf_alpha", 1.0) for chunk in chunks]
    return Speech(np.concatenate(audio), chunks, [int(a.size) for a in audio], "jf_alpha")


@pytest.fixture(scope="session")
def scorer():
    from pytest_kokoro.quality.intelligibility import IntelligibilityScorer

    return IntelligibilityScorer()
