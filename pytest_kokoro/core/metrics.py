"""Measurement arithmetic and the checks every result must pass (docs/protocol.md, docs/results.md).

The harness computes its result with ``derive_metrics``; the plugin recomputes it from the chunk events it
received and compares (``invariant_problems``), so a harness cannot report numbers its own events do not support.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

SAMPLE_RATE = 24000
AUDIBLE_THRESHOLD = 0.01
# Relative tolerance between a harness's reported numbers and the ones derived from its chunk events: the
# numbers travel as JSON floats, so only rounding may separate them.
TOLERANCE = 1e-6


class NoAudioError(ValueError):
    """A run produced zero samples: there is no duration to divide by."""


@dataclass(frozen=True)
class Metrics:
    time_to_first_audio: float
    per_sentence_inference: list[float]
    inference_time: float
    total_time: float
    audio_duration: float
    real_time_factor: float
    samples_per_sec: float | None  # None (null) when the timed region is empty: a broken clock
    samples: int
    chunk_count: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def derive_metrics(
    chunk_times: Sequence[float], chunk_samples: Sequence[int], model_load_time: float, sample_rate: int = SAMPLE_RATE
) -> Metrics:
    """Metrics from the chunks' timestamps (seconds since T1, in order) and sample counts."""
    if not chunk_times:
        raise NoAudioError("the run produced no chunks")
    if len(chunk_times) != len(chunk_samples):
        raise ValueError(f"{len(chunk_times)} chunk times but {len(chunk_samples)} sample counts")
    samples = int(sum(chunk_samples))
    if samples <= 0:
        raise NoAudioError("the run produced zero samples")
    per_sentence = [t - previous for previous, t in zip([0.0, *chunk_times[:-1]], chunk_times)]
    inference_time = float(chunk_times[-1])
    audio_duration = samples / sample_rate
    return Metrics(
        time_to_first_audio=per_sentence[0],
        per_sentence_inference=per_sentence,
        inference_time=inference_time,
        total_time=model_load_time + inference_time,
        audio_duration=audio_duration,
        real_time_factor=inference_time / audio_duration,
        # A zero-length timed region can only come from a broken clock: the throughput cannot be computed (null).
        samples_per_sec=samples / inference_time if inference_time > 0 else None,
        samples=samples,
        chunk_count=len(chunk_times),
    )


def first_audible_index(audio: np.ndarray, threshold: float = AUDIBLE_THRESHOLD) -> int | None:
    loud = np.flatnonzero(np.abs(audio) >= threshold)
    return int(loud[0]) if loud.size else None


def time_to_first_audible(time_to_first_audio: float, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float | None:
    """When the listener hears something, if playback starts with the first chunk and runs without gaps."""
    index = first_audible_index(audio)
    return None if index is None else time_to_first_audio + index / sample_rate


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=1e-9)


def invariant_problems(result: dict[str, Any], chunk_times: Sequence[float] | None = None,
                       chunk_samples: Sequence[int] | None = None) -> list[str]:
    """Everything inconsistent in ``result``, and between it and the chunk events when given; [] when sound."""
    problems: list[str] = []
    per_sentence = result["per_sentence_inference"]
    if not per_sentence:
        return ["per_sentence_inference is empty"]
    if any(not math.isfinite(x) or x < 0 for x in per_sentence):
        problems.append(f"per_sentence_inference has negative or non-finite entries: {per_sentence}")
    if not _close(sum(per_sentence), result["inference_time"]):
        problems.append(f"per_sentence_inference sums to {sum(per_sentence)!r}, not inference_time {result['inference_time']!r}")
    if not _close(per_sentence[0], result["time_to_first_audio"]):
        problems.append(f"time_to_first_audio {result['time_to_first_audio']!r} is not per_sentence_inference[0] {per_sentence[0]!r}")
    if not _close(result["model_load_time"] + result["inference_time"], result["total_time"]):
        problems.append(f"total_time {result['total_time']!r} is not model_load_time + inference_time")
    samples = result.get("samples")
    if samples is not None:
        if not _close(samples / result["sample_rate"], result["audio_duration"]):
            problems.append(f"audio_duration {result['audio_duration']!r} is not samples / sample_rate = {samples / result['sample_rate']!r}")
        if result["inference_time"] > 0 and not _close(samples / result["inference_time"], result["samples_per_sec"]):
            problems.append(f"samples_per_sec {result['samples_per_sec']!r} is not samples / inference_time")
    if result["audio_duration"] > 0 and not _close(result["inference_time"] / result["audio_duration"], result["real_time_factor"]):
        problems.append(f"real_time_factor {result['real_time_factor']!r} is not inference_time / audio_duration")
    if "chunk_count" in result and result["chunk_count"] != len(per_sentence):
        problems.append(f"chunk_count {result['chunk_count']} but {len(per_sentence)} per_sentence_inference entries")
    if chunk_times is not None and chunk_samples is not None:
        try:
            derived = derive_metrics(chunk_times, chunk_samples, result["model_load_time"], result["sample_rate"])
        except (NoAudioError, ValueError) as error:
            return [*problems, f"the chunk events do not make a result: {error}"]
        for key, value in derived.as_dict().items():
            reported = result.get(key)
            if reported is None:
                continue
            pairs = zip(value, reported) if isinstance(value, list) else [(value, reported)]
            if (isinstance(value, list) and len(value) != len(reported)) or not all(_close(a, b) for a, b in pairs):
                problems.append(f"{key} {reported!r} disagrees with the chunk events, which give {value!r}")
    return problems


def audio_problems(audio: np.ndarray, text: str, sample_rate: int = SAMPLE_RATE) -> list[str]:
    """What is wrong with the audio a run produced for ``text``: not finite, clipped, silent or of implausible length."""
    if audio.size == 0:
        return ["the audio is empty"]
    problems = []
    if not np.all(np.isfinite(audio)):
        problems.append(f"{int(np.sum(~np.isfinite(audio)))} samples are NaN or infinite")
        audio = np.nan_to_num(audio)
    peak = float(np.max(np.abs(audio)))
    if peak > 1.0:
        problems.append(f"samples reach {peak:.3f}, outside [-1, 1]")
    if peak < AUDIBLE_THRESHOLD:
        problems.append(f"the audio is silent (peak {peak:.5f} < {AUDIBLE_THRESHOLD})")
    seconds = audio.size / sample_rate
    low, high = plausible_duration(text)
    if not low <= seconds <= high:
        problems.append(f"{seconds:.2f} s of audio for {len(text)} characters; expected {low:.2f}-{high:.2f} s")
    return problems


def plausible_duration(text: str) -> tuple[float, float]:
    """Bounds on the speech length of ``text`` in seconds: loose, to catch truncated or runaway audio, not accents.

    Kokoro speaks English at about 15 characters a second at speed 1.0; the bounds allow 4x either way plus
    the model's own padding at each chunk end.
    """
    speakable = sum(ch.isalnum() for ch in text)
    return speakable / 60.0, speakable / 3.75 + 2.0
