"""One round's quality: the model-free checks, the duration against phoneme tokens and (unless switched off) the
intelligibility score, as ``quality_*`` result keys and named failures (docs/quality.md). Runs on the host after
the clock, for every device: its cost is measured and kept in ``quality_check_time``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pytest_kokoro.quality.checks import Failure, check_audio
from pytest_kokoro.quality.duration import (
    PhonemizerUnavailable,
    check_duration,
    expected_seconds,
    language_of,
    token_count,
)

# --kokoro-quality: "full" adds the intelligibility score (pocketsphinx) to the model-free checks; "basic" skips it.
QUALITY_LEVELS = ("full", "basic")


@dataclass
class RoundQuality:
    failures: list[Failure] = field(default_factory=list)
    keys: dict[str, Any] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        return [str(f) for f in self.failures]


def assess_round(audio: np.ndarray, *, chunk_texts: Sequence[str], chunk_samples: Sequence[int], voice: str,
                 speed: float, sample_rate: int, level: str = "full", scorer: Any = None,
                 simulated: bool = False) -> RoundQuality:
    """The quality of one round's ``audio`` (its chunks' texts and sample counts as the harness reported them).

    ``scorer`` (intelligibility.IntelligibilityScorer) is used when ``level`` is "full"; the caller owns it, so its
    decoder is built once per run, not per round. A ``simulated`` engine's audio is a test tone, not speech: only
    the checks any audio must pass apply to it.
    """
    started = time.process_time()
    report = check_audio(audio, sample_rate, chunk_samples, speech=not simulated)
    failures = list(report.failures)
    tokens = None if simulated else _tokens(chunk_texts, voice)
    duration_ratio = None
    seconds = audio.size / sample_rate
    if tokens is not None and sum(tokens) > 0:
        duration_ratio = seconds / expected_seconds(tokens, speed)
        if not {"silent", "nan"} & set(report.names):
            failure = check_duration(seconds, tokens, speed)
            if failure is not None:
                failures.append(failure)
    intelligibility = None
    if level == "full" and scorer is not None and not simulated and not report.failures:
        intelligibility = scorer.score(audio, chunk_texts, chunk_samples, sample_rate)
        if intelligibility.failure is not None:
            failures.append(intelligibility.failure)
    keys: dict[str, Any] = {
        "quality_failures": [f.name for f in failures],
        "quality_reasons": [f.message for f in failures],
        **{k: report.measures.get(k) for k in MEASURE_KEYS},
        "quality_phoneme_tokens": sum(tokens) if tokens is not None else None,
        "quality_duration_ratio": duration_ratio,
        "quality_intelligibility": intelligibility.score if intelligibility is not None else None,
        "quality_check_time": time.process_time() - started,
    }
    return RoundQuality(failures, keys)


def _tokens(chunk_texts: Sequence[str], voice: str) -> list[int] | None:
    try:
        return [token_count(text, language_of(voice)) for text in chunk_texts]
    except PhonemizerUnavailable:
        return None  # judged nowhere rather than against characters; docs/quality.md says how to enable it


MEASURE_KEYS = ("quality_peak", "quality_level_dbfs", "quality_flatness", "quality_level_spread_db",
                "quality_dc_offset", "quality_leading_silence")
