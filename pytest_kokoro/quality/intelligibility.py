"""Does the audio say the text? Each chunk's audio is force-aligned to the chunk's words with pocketsphinx's
English acoustic model, under a fixed search beam; the score is the share of the text's words in chunks whose
alignment completes (docs/quality.md "Intelligibility").

Why alignment and not recognition: decoded freely, pocketsphinx's US-English model hears these voices (Japanese
voices reading English) with a word error rate of 0.67-1.23, too weak to be a score; a word loop over the text's own
words does no better (0.91 on good audio). Alignment asks a narrower question, "can these words be fitted to
this audio", which the good audio of every host voice answers yes and reversed, phase-scrambled, noisy or
twice-too-fast audio answers no (the separation table in docs/quality.md, tools/measure_quality.py).

pocketsphinx 5.1.1 (cython/_pocketsphinx.pyx): ``set_align_text`` needs every word in the dictionary (it raises
RuntimeError otherwise), so words the dictionary lacks ("Kokoro", digits) are added first with ``add_word`` and the
pronunciation espeak-ng gives the model, mapped to the acoustic model's ARPABET phones; a chunk whose alignment
cannot complete within the beam gives no hypothesis (``hyp()`` returns None). Without those words a text of a few
words ("Hi there. This is Kokoro.") aligns even when reversed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pytest_kokoro.quality.checks import Failure
from pytest_kokoro.quality.duration import PhonemizerUnavailable, ipa_of

DECODER_RATE = 16000  # the rate of pocketsphinx's en-us acoustic model
# The alignment's search beams: wide enough that good speech of every host voice aligns, narrow enough that audio
# which does not say the words falls out of the beam (measured: docs/quality.md).
BEAM = 1e-60
WORD_BEAM = 1e-40
UNINTELLIGIBLE_BELOW = 0.5
COVERAGE = 0.9
_WORD = re.compile(r"[a-z']+|[0-9]+")
# espeak-ng's IPA (as kokoro-onnx's tokenizer gives it) to the ARPABET phones of pocketsphinx's en-us model, for
# words its dictionary lacks ("Kokoro", "quantization", digits); longest symbols first.
IPA_TO_ARPABET = {
    "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "ɔɪ": "OY", "ɑː": "AA", "ɔː": "AO", "iː": "IY", "uː": "UW",
    "ɜː": "ER", "ɚ": "ER", "ɝ": "ER", "tʃ": "CH", "dʒ": "JH", "ɑ": "AA", "æ": "AE", "ʌ": "AH", "ə": "AH", "ɐ": "AH",
    "ɔ": "AO", "ɛ": "EH", "ɪ": "IH", "ᵻ": "IH", "i": "IY", "ʊ": "UH", "u": "UW", "o": "OW", "e": "EH", "a": "AA",
    "b": "B", "d": "D", "ð": "DH", "f": "F", "ɡ": "G", "g": "G", "h": "HH", "j": "Y", "k": "K", "l": "L", "m": "M",
    "n": "N", "ŋ": "NG", "p": "P", "ɹ": "R", "r": "R", "s": "S", "ʃ": "SH", "t": "T", "θ": "TH", "v": "V", "w": "W",
    "z": "Z", "ʒ": "ZH", "ɾ": "T", "ʔ": "T", "x": "K", "ɬ": "L",
}
_IPA_SYMBOLS = sorted(IPA_TO_ARPABET, key=len, reverse=True)


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
        self._spoken: dict[str, list[str]] = {}  # a word the dictionary lacks -> the names it was added under

    def known_words(self, text: str) -> list[str]:
        """The words to align ``text`` with: the dictionary's, and the others with espeak-ng's pronunciation; []
        when they would not cover what the model says for the text, so the chunk is not judged (a word the list
        lacks and the audio says would fail good audio).

        Covered means every word could be spelled in phones, and the words read alone are as long as espeak-ng's
        reading of the whole text, within 1 - COVERAGE of it: "$3.50" is "three dollars fifty", "1.301e+16" is read digit by digit
        after the point, and no list of the text's words says that."""
        words: list[str] = []
        alone = 0
        for word in words_of(text):
            if self._decoder.lookup_word(word) is not None:
                words.append(word)
            else:
                added = self._added(word)
                if not added:
                    return []
                words.extend(added)
            alone += len(_bare(_ipa_or_empty(word)))
        spoken = len(_bare(_ipa_or_empty(text)))
        if abs(alone - spoken) > (1 - COVERAGE) * spoken:
            return []
        return words

    def _added(self, word: str) -> list[str]:
        if word not in self._spoken:
            ipa = _ipa_or_empty(word)
            names = []
            for index, piece in enumerate(ipa.split()):
                phones = arpabet(piece)
                if phones:
                    name = f"{word}__{index}"
                    self._decoder.add_word(name, " ".join(phones))
                    names.append(name)
            self._spoken[word] = names
        return self._spoken[word]

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


def _ipa_or_empty(text: str) -> str:
    try:
        return ipa_of(text)
    except PhonemizerUnavailable:
        return ""


def _bare(ipa: str) -> str:
    """IPA without spaces and stress marks, to compare a word's reading with the text's."""
    return "".join(c for c in ipa if c.isalpha() and c not in "ˈˌ")


def arpabet(ipa: str) -> list[str]:
    """ARPABET phones for one word of espeak-ng IPA; stress and length marks and unknown symbols are dropped."""
    phones, at = [], 0
    while at < len(ipa):
        symbol = next((s for s in _IPA_SYMBOLS if ipa.startswith(s, at)), None)
        if symbol is None:
            at += 1
            continue
        phones.append(IPA_TO_ARPABET[symbol])
        at += len(symbol)
    return phones


def _pcm16(audio: np.ndarray, sample_rate: int) -> bytes:
    from scipy.signal import resample_poly

    common = math.gcd(DECODER_RATE, sample_rate)
    resampled = resample_poly(np.nan_to_num(audio.astype(np.float64)), DECODER_RATE // common, sample_rate // common)
    return (np.clip(resampled, -1.0, 1.0) * 32767).astype("<i2").tobytes()
