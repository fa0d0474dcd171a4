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


@dataclass(frozen=True)
class Playback:
    """Playback as a listener hears it, replayed through an ideal player (docs/results.md "Playback keys").

    Playback starts with the first chunk the moment it is ready; chunk i plays when it is ready (t_i, seconds since
    T1) and the chunk before it has ended, and lasts samples_i / sample_rate. A chunk ready only after the one
    before it ended leaves a gap: a stall. The Swift twin is Playback.swift; spec/playback_examples.json checks both.
    """

    starts: list[float]
    ends: list[float]
    stall_time: float
    stall_count: int
    # The earliest start that never stalls: max over i of (t_i - the audio before chunk i).
    gapless_start_time: float

    def result_keys(self) -> dict[str, Any]:
        return {"playback_stall_time": self.stall_time, "stall_count": self.stall_count,
                "gapless_start_time": self.gapless_start_time}


def replay_playback(chunk_times: Sequence[float], chunk_samples: Sequence[int], sample_rate: int = SAMPLE_RATE) -> Playback:
    """Replay chunks ready at ``chunk_times`` (seconds since T1, in order) with ``chunk_samples`` samples each."""
    if not chunk_times:
        raise NoAudioError("the run produced no chunks")
    if len(chunk_times) != len(chunk_samples):
        raise ValueError(f"{len(chunk_times)} chunk times but {len(chunk_samples)} sample counts")
    starts: list[float] = []
    ends: list[float] = []
    stall_time = 0.0
    stall_count = 0
    gapless_start = -math.inf
    audio_before = 0.0
    for t, samples in zip(chunk_times, chunk_samples):
        duration = samples / sample_rate
        start = t
        if ends:
            if t > ends[-1]:
                stall_time += t - ends[-1]
                stall_count += 1
            else:
                start = ends[-1]
        starts.append(start)
        ends.append(start + duration)
        gapless_start = max(gapless_start, t - audio_before)
        audio_before += duration
    return Playback(starts, ends, stall_time, stall_count, gapless_start)


def chunk_times_of(per_sentence_inference: Sequence[float]) -> list[float]:
    """The chunks' timestamps since T1, back from per_sentence_inference (their differences)."""
    return [float(t) for t in np.cumsum(per_sentence_inference)]


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
    problems.extend(_playback_problems(result))
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


def _playback_problems(result: dict[str, Any]) -> list[str]:
    """The playback keys, when present, must be the replay of the result's own chunks."""
    chunk_samples = result.get("chunk_samples")
    if chunk_samples is None or "gapless_start_time" not in result:
        return []
    problems = []
    if len(chunk_samples) != len(result["per_sentence_inference"]):
        return [f"chunk_samples has {len(chunk_samples)} entries but per_sentence_inference "
                f"{len(result['per_sentence_inference'])}"]
    if "samples" in result and sum(chunk_samples) != result["samples"]:
        problems.append(f"chunk_samples sum to {sum(chunk_samples)}, not samples {result['samples']}")
    replayed = replay_playback(chunk_times_of(result["per_sentence_inference"]), chunk_samples, result["sample_rate"])
    for key, value in replayed.result_keys().items():
        reported = result.get(key)
        if reported is None or (not _close(value, reported) if key != "stall_count" else value != reported):
            problems.append(f"{key} {reported!r} is not the replay of the chunks, which gives {value!r}")
    return problems
