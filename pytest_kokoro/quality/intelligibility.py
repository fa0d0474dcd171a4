"""Does the audio say the text? Each chunk's audio is force-aligned to the chunk's words with pocketsphinx's
English acoustic model, under a fixed search beam; the score is the share of the text's words in chunks whose
alignment completes (docs/quality.md "Intelligibility").

Why alignment and not recognition: decoded freely, pocketsphinx's US-English model hears these voices (Japanese
voices reading English) with a word error rate of 0.67-1.23, too weak to be a score; a word loop over the text's own
words does no better (0.91 on good audio). Alignment asks a narrower question, "can these words be fitted to
this audio", which the good audio of every host voice answers yes and reversed, phase-scrambled, noisy or
twice-too-fast audio answers no (the separation table in docs/quality.md, tools/measure_quality.py).

pocketsphinx 5.1.1 (cython/_pocketsphinx.pyx): ``set_align_text`` needs every word in the dictionary (it raises
RuntimeError otherwise), so words the dictionary lacks ("Kokoro") are left out of the alignment; a chunk whose
alignment cannot complete within the beam gives no hypothesis (``hyp()`` returns None).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pytest_kokoro.quality.checks import Failure

DECODER_RATE = 16000  # the rate of pocketsphinx's en-us acoustic model
# The alignment's search beams: wide enough that good speech of every host voice aligns, narrow enough that audio
# which does not say the words falls out of the beam (measured: docs/quality.md).
BEAM = 1e-60
WORD_BEAM = 1e-40
UNINTELLIGIBLE_BELOW = 0.5
_WORD = re.compile(r"[a-z']+")


class ScorerUnavailable(RuntimeError):
    """pocketsphinx is not installed: the intelligibility score cannot run."""


@dataclass(frozen=True)
class Intelligibility:
    score: float | None  # share of the dictionary words in chunks that aligned; None when there were none
    words: int
    failure: Failure | None


def words_of(text: str) -> list[str]:
    """The text's words as the dictionary spells them: lower case, hyphens split ("text-to-speech")."""
    return _WORD.findall(text.lower().replace("-", " ").replace("’", "'"))


class IntelligibilityScorer:
    def __init__(self) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError as error:
            raise ScorerUnavailable(
                "the intelligibility score needs pocketsphinx: pip install 'pytest-kokoro[quality]', or run with "
                "--kokoro-quality=basic for the model-free checks only") from error
        self._decoder = Decoder(lm=None, bestpath=False, beam=BEAM, wbeam=WORD_BEAM, pbeam=BEAM, loglevel="FATAL")

    def known_words(self, text: str) -> list[str]:
        return [w for w in words_of(text) if self._decoder.lookup_word(w) is not None]

    def aligns(self, audio: np.ndarray, words: Sequence[str], sample_rate: int) -> bool:
        decoder = self._decoder
        decoder.set_align_text(" ".join(words))
        decoder.start_utt()
        decoder.process_raw(_pcm16(audio, sample_rate), full_utt=True)
        decoder.end_utt()
        return decoder.hyp() is not None

    def score(self, audio: np.ndarray, chunk_texts: Sequence[str], chunk_samples: Sequence[int],
              sample_rate: int) -> Intelligibility:
        aligned = total = 0
        edges = np.cumsum([0, *chunk_samples])
        for text, start, stop in zip(chunk_texts, edges[:-1], edges[1:]):
            words = self.known_words(text)
            if not words or stop <= start:
                continue
            total += len(words)
            if self.aligns(audio[start:stop], words, sample_rate):
                aligned += len(words)
        if total == 0:
            return Intelligibility(None, 0, None)  # no English words to listen for (emoji, another script)
        score = aligned / total
        failure = None
        if score < UNINTELLIGIBLE_BELOW:
            failure = Failure("unintelligible", f"the audio does not say the text: {aligned} of {total} words fit "
                                                f"it (score {score:.2f}, at least {UNINTELLIGIBLE_BELOW} expected)")
        return Intelligibility(score, total, failure)


def _pcm16(audio: np.ndarray, sample_rate: int) -> bytes:
    from scipy.signal import resample_poly

    common = math.gcd(DECODER_RATE, sample_rate)
    resampled = resample_poly(np.nan_to_num(audio.astype(np.float64)), DECODER_RATE // common, sample_rate // common)
    return (np.clip(resampled, -1.0, 1.0) * 32767).astype("<i2").tobytes()
