"""Model-free checks of one round's audio, each failure with a name (docs/quality.md).

The known broken outputs of the engines this suite measures are NaN samples, samples far outside [-1, 1], white
noise instead of speech, noise tails after the speech, silence and audio of the wrong length. Each has a named
check here; a round that fails one fails its test and stays in the results with ``quality_failures``.

Everything works on 20 ms frames computed once (RMS level and spectral flatness), so the checks cost a few
milliseconds per second of audio (docs/quality.md "Costs").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

FRAME_SECONDS = 0.02
# A frame this far below the loudest frame of its chunk (dB) is a pause, not speech.
ACTIVE_RANGE_DB = 35.0
SILENT_PEAK = 0.01  # the core's audible threshold: nothing louder is silence
# Kokoro's float output overshoots full scale a little on loud voices (jm_kumo reading the default text peaks at
# 1.18, 37 samples above 1.0): a WAV writer clips that inaudibly. Broken builds give samples at +-11 (mlx-swift
# 0.30.0-0.30.3) or 1e25: clipped means a peak beyond OVER_PEAK, or a share of samples pinned at full scale.
OVER_PEAK = 2.0
CLIP_LEVEL = 0.999
CLIPPED_FRACTION = 0.005
TOO_QUIET_DBFS = -40.0  # the speech's level (RMS of its active frames); Kokoro speaks at about -20 dBFS
DC_OFFSET = 0.05  # |mean|; Kokoro's speech has a mean below 0.001
# Spectral flatness (geometric / arithmetic mean of a frame's power spectrum): white noise about 0.56, voiced speech
# below 0.05, a fricative up to about 0.4. The median over a round's active frames tells speech from noise.
NOISE_FLATNESS = 0.35
# Speech rises and falls by tens of dB within a second; noise (white, or speech with its phases scrambled) holds
# one level. The spread (dB, 10th to 90th percentile) of the active frames' levels tells them apart.
STEADY_SPREAD_DB = 6.0
# A noise tail: after a chunk's last speech frame, this long a run of frames above TAIL_LEVEL_DBFS.
TAIL_SECONDS = 0.3
TAIL_LEVEL_DBFS = -50.0
TAIL_FLATNESS = 0.3
LEADING_SILENCE_SECONDS = 1.0


@dataclass(frozen=True)
class Failure:
    """A named reason a round's audio is broken: ``name`` is stable (gates, reports), ``message`` says what."""

    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"


@dataclass
class AudioReport:
    failures: list[Failure] = field(default_factory=list)
    measures: dict[str, float | None] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.failures]


@dataclass(frozen=True)
class Frames:
    """Per-frame level (dBFS) and spectral flatness of finite audio."""

    level_db: np.ndarray
    flatness: np.ndarray
    frame: int

    @classmethod
    def of(cls, audio: np.ndarray, sample_rate: int) -> Frames:
        frame = max(1, int(sample_rate * FRAME_SECONDS))
        count = audio.size // frame
        if count == 0:
            return cls(np.zeros(0), np.zeros(0), frame)
        frames = audio[: count * frame].reshape(count, frame).astype(np.float64)
        rms = np.sqrt(np.mean(frames**2, axis=1))
        level = 20 * np.log10(np.maximum(rms, 1e-10))
        power = np.abs(np.fft.rfft(frames * np.hanning(frame), axis=1)) ** 2 + 1e-20
        flatness = np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)
        return cls(level, flatness, frame)

    def active(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Indices of the frames in [start, stop) within ACTIVE_RANGE_DB of the loudest of them."""
        level = self.level_db[start:stop]
        if level.size == 0:
            return np.zeros(0, dtype=int)
        return start + np.flatnonzero(level >= level.max() - ACTIVE_RANGE_DB)


def check_audio(audio: np.ndarray, sample_rate: int, chunk_samples: Sequence[int] | None = None, *,
                speech: bool = True) -> AudioReport:
    """The model-free checks of one round's audio (duration is judged apart: duration.py).

    ``speech=False`` (a SIMULATED engine's test tone) keeps the checks any audio must pass (nan, clipped, silent)
    and skips those that judge speech.
    """
    report = AudioReport()
    fail = report.failures.append
    if audio.size == 0:
        fail(Failure("silent", "the audio is empty"))
        return report
    finite = np.isfinite(audio)
    if not finite.all():
        bad = int(audio.size - finite.sum())
        fail(Failure("nan", f"{bad} of {audio.size} samples ({bad / audio.size:.1%}) are NaN or infinite"))
        audio = np.where(finite, audio, 0.0).astype(np.float32)
    magnitude = np.abs(audio)
    peak = float(magnitude.max())
    report.measures["quality_peak"] = peak
    pinned = float(np.mean(magnitude >= CLIP_LEVEL))
    if peak > OVER_PEAK:
        fail(Failure("clipped", f"samples reach {peak:.3g}, far outside [-1, 1] (limit {OVER_PEAK})"))
    elif pinned >= CLIPPED_FRACTION:
        fail(Failure("clipped", f"{pinned:.1%} of the samples sit at or beyond full scale (limit "
                                f"{CLIPPED_FRACTION:.1%})"))
    if peak < SILENT_PEAK:
        fail(Failure("silent", f"the audio is silent (peak {peak:.5f} < {SILENT_PEAK})"))
        return report
    if not speech:
        return report
    mean = float(np.mean(audio))
    report.measures["quality_dc_offset"] = mean
    if abs(mean) > DC_OFFSET:
        fail(Failure("dc_offset", f"the samples' mean is {mean:+.3f}, not about 0 (limit ±{DC_OFFSET})"))
        audio = audio - mean
    frames = Frames.of(audio, sample_rate)
    if frames.level_db.size == 0:
        return report
    active = frames.active()
    level = 10 * np.log10(np.mean(10 ** (frames.level_db[active] / 10)))
    flatness = float(np.median(frames.flatness[active]))
    spread = float(np.subtract(*np.percentile(frames.level_db[active], [90, 10])))
    report.measures.update(quality_level_dbfs=float(level), quality_flatness=flatness, quality_level_spread_db=spread)
    if level < TOO_QUIET_DBFS:
        fail(Failure("too_quiet", f"the speech is at {level:.1f} dBFS, below {TOO_QUIET_DBFS:.0f} dBFS"))
    if flatness > NOISE_FLATNESS or spread < STEADY_SPREAD_DB:
        fail(Failure("noise", f"the audio sounds like noise, not speech: spectral flatness {flatness:.2f} "
                              f"(speech < {NOISE_FLATNESS}), level spread {spread:.1f} dB (speech > {STEADY_SPREAD_DB:.0f})"))
    else:
        tail = _noise_tail(frames, chunk_samples or [audio.size], sample_rate)
        if tail is not None:
            fail(tail)
    leading = int(np.argmax(magnitude >= SILENT_PEAK)) / sample_rate
    report.measures["quality_leading_silence"] = leading
    if leading > LEADING_SILENCE_SECONDS:
        fail(Failure("leading_silence", f"{leading:.2f} s of silence before the first audible sample "
                                        f"(limit {LEADING_SILENCE_SECONDS} s)"))
    return report


def _noise_tail(frames: Frames, chunk_samples: Sequence[int], sample_rate: int) -> Failure | None:
    """Noise after a chunk's speech has ended: the frames after its last speech-like frame stay loud and flat."""
    boundaries = np.cumsum([0, *chunk_samples]) // frames.frame
    need = int(round(TAIL_SECONDS / FRAME_SECONDS))
    for index, (start, stop) in enumerate(zip(boundaries[:-1], boundaries[1:])):
        stop = min(int(stop), frames.level_db.size)
        active = frames.active(int(start), stop)
        speech = active[frames.flatness[active] < TAIL_FLATNESS]
        if speech.size == 0:
            continue
        after = np.arange(speech[-1] + 1, stop)
        loud = after[(frames.level_db[after] > TAIL_LEVEL_DBFS) & (frames.flatness[after] >= TAIL_FLATNESS)]
        if loud.size >= need:
            seconds = loud.size * frames.frame / sample_rate
            level = float(np.max(frames.level_db[loud]))
            return Failure("noise_tail", f"chunk {index}: {seconds:.2f} s of noise (up to {level:.0f} dBFS) after "
                                         "its speech ends")
    return None
