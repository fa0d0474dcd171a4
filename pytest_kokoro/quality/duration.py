"""Is the audio as long as the model's input says? Judged against the phoneme tokens each chunk gave the model,
never against characters: an emoji-only text is spoken as the emoji's names and an Arabic one letter by letter,
so characters say nothing about length in any script but Latin (docs/quality.md "Duration").

Kokoro speaks a chunk in about PAD_SECONDS + SECONDS_PER_TOKEN x its tokens at speed 1.0: measured on the five
host voices reading the project's texts, 0.058 (jf_alpha) to 0.089 (jf_nezumi) s a token on long chunks, with
0.4-1.0 s of pause padding each chunk: the host's audio lasts 0.78 (jf_alpha) to 1.21 (jf_nezumi) times this
expectation over the five voices and six texts (tools/measure_quality.py). Speech at twice the speed on the slowest
voice comes to 0.60, at half the speed on the fastest to 1.55; the bounds sit between, about 12 % from each.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from pytest_kokoro.quality.checks import Failure

PAD_SECONDS = 0.9
SECONDS_PER_TOKEN = 0.07
# The slack widens the bounds for chunks of a few tokens, whose padding varies most.
LOW_RATIO, LOW_SLACK = 0.69, 0.25  # too short below LOW_RATIO x expected - LOW_SLACK seconds
HIGH_RATIO, HIGH_SLACK = 1.38, 0.5  # too long above HIGH_RATIO x expected + HIGH_SLACK seconds


class PhonemizerUnavailable(RuntimeError):
    """espeak-ng (kokoro-onnx's tokenizer) is not installed: durations cannot be judged against phonemes."""


def expected_seconds(chunk_tokens: Sequence[int], speed: float = 1.0) -> float:
    """The expected length of chunks of these token counts; a chunk with no tokens is not synthesized at all."""
    return sum(PAD_SECONDS + SECONDS_PER_TOKEN * t for t in chunk_tokens if t > 0) / speed


def duration_bounds(chunk_tokens: Sequence[int], speed: float = 1.0) -> tuple[float, float]:
    expected = expected_seconds(chunk_tokens, speed)
    return max(0.0, LOW_RATIO * expected - LOW_SLACK), HIGH_RATIO * expected + HIGH_SLACK


def check_duration(seconds: float, chunk_tokens: Sequence[int], speed: float = 1.0) -> Failure | None:
    """``too_short`` or ``too_long`` for ``seconds`` of audio from chunks of ``chunk_tokens`` tokens, else None."""
    low, high = duration_bounds(chunk_tokens, speed)
    tokens = sum(chunk_tokens)
    if seconds < low:
        return Failure("too_short", f"{seconds:.2f} s of audio for {tokens} phoneme tokens at speed {speed:g}; "
                                    f"expected {low:.2f}-{high:.2f} s (speech too fast, or cut off)")
    if seconds > high:
        return Failure("too_long", f"{seconds:.2f} s of audio for {tokens} phoneme tokens at speed {speed:g}; "
                                   f"expected {low:.2f}-{high:.2f} s (speech too slow, or runaway audio)")
    return None


@functools.lru_cache(maxsize=1)
def _tokenizer():
    try:
        from kokoro_onnx.tokenizer import Tokenizer
    except ImportError as error:
        raise PhonemizerUnavailable(
            "durations are judged against espeak-ng phonemes: pip install 'pytest-kokoro[host]'") from error
    return Tokenizer()


@functools.lru_cache(maxsize=4096)
def token_count(text: str, language: str = "en-us") -> int:
    """The phoneme tokens the host harness gives Kokoro for ``text`` (harness/onnx_engine.py: the same tokenizer)."""
    tokenizer = _tokenizer()
    return len(tokenizer.tokenize(tokenizer.phonemize(text, language), limit=None))


@functools.lru_cache(maxsize=4096)
def ipa_of(text: str, language: str = "en-us") -> str:
    """espeak-ng's IPA for ``text``, as kokoro-onnx's tokenizer gives it to the model."""
    return _tokenizer().phonemize(text, language)


def language_of(voice: str) -> str:
    """espeak-ng's English for a Kokoro voice, as the host harness picks it: British for b*, else American."""
    return "en-gb" if voice[:1] == "b" else "en-us"
