"""The pace of one device for the ``adaptive`` split: how long a chunk takes to synthesize and how long it speaks.

``adaptive`` sizes every chunk after the first so that it is ready before the audio queued ahead of it runs out
(docs/protocol.md "Split strategies"). That needs the device's own cost of a model call, which differs by 10x
between a phone and a busy CI host, so a harness measures it before T1: it synthesizes the two PACE_PROBES, untimed,
and fits a line through (characters, seconds) and (characters, audio seconds) with ``fit_pace``. Every number is
an integer in microseconds, so that Python and Swift (Pace.swift) cut identically from the same pace; both are
checked against spec/split_strategies.json.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

# Two texts of different length, synthesized before T1 when a run splits adaptively: their difference gives the
# cost of a character, the rest the fixed cost of a call. Prose with commas, like the texts people benchmark: a
# pause is audio the model must synthesize, and probes without any measured 15% less audio and compute per
# character than the chunks of the default and paragraph texts (docs/performance.md).
PACE_PROBES = ("Hello, there.",
               "The harbor was quiet before dawn, and the fishing boats rocked gently against the pier, waiting.")
# The planned compute is the measured one times this (in percent): room for the noise of a shared machine, where one
# call varies by about 15% (docs/performance.md).
PACE_MARGIN_PERCENT = 120


@dataclass(frozen=True)
class Pace:
    """A chunk of n code points takes compute_us_per_chunk + compute_us_per_char·n to synthesize and speaks for
    audio_us_per_chunk + audio_us_per_char·n."""

    compute_us_per_chunk: int
    compute_us_per_char: int
    audio_us_per_chunk: int
    audio_us_per_char: int

    def compute_us(self, chars: int) -> int:
        """The planned compute of a chunk: the measured line times PACE_MARGIN_PERCENT."""
        return (self.compute_us_per_chunk + self.compute_us_per_char * chars) * PACE_MARGIN_PERCENT // 100

    def audio_us(self, chars: int) -> int:
        return self.audio_us_per_chunk + self.audio_us_per_char * chars

    def max_chars(self, budget_us: int) -> int:
        """The most code points whose planned compute fits ``budget_us`` (0 when not even an empty chunk does)."""
        per_call = budget_us * 100 // PACE_MARGIN_PERCENT - self.compute_us_per_chunk
        return max(0, per_call) // self.compute_us_per_char

    def as_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, int]) -> Pace:
        return cls(**{key: int(data[key]) for key in cls.__dataclass_fields__})


# Used when nothing was measured (the Swift CLI's --split-batch, the docs' examples): Kokoro-82M's audio at speed
# 1.0 (about 17 characters a second plus the silence it pads every chunk with, fitted on the host) and the host's
# int8 model on a quiet 2-core machine (docs/performance.md).
DEFAULT_PACE = Pace(compute_us_per_chunk=410_000, compute_us_per_char=32_000,
                    audio_us_per_chunk=900_000, audio_us_per_char=59_000)


def fit_pace(probes: list[tuple[int, float, float]]) -> Pace:
    """The line through the shortest and the longest probe, each (code points, compute seconds, audio seconds).

    A slope that noise made zero or negative becomes 1 µs a character; an intercept below zero becomes 0."""
    (n1, c1, a1), (n2, c2, a2) = sorted(probes)[:1] + sorted(probes)[-1:]
    if n2 <= n1:
        raise ValueError(f"the pace needs two probes of different length, got {n1} and {n2} code points")
    compute_per_char = max(1, _us((c2 - c1) / (n2 - n1)))
    audio_per_char = max(1, _us((a2 - a1) / (n2 - n1)))
    return Pace(compute_us_per_chunk=max(0, _us(c1) - compute_per_char * n1),
                compute_us_per_char=compute_per_char,
                audio_us_per_chunk=max(0, _us(a1) - audio_per_char * n1),
                audio_us_per_char=audio_per_char)


def _us(seconds: float) -> int:
    """Seconds to whole microseconds, halves rounded up (as Swift's ``(x + 0.5).rounded(.down)``, unlike round())."""
    return math.floor(seconds * 1e6 + 0.5)
