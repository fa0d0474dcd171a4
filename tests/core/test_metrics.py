import math

import numpy as np
import pytest

from pytest_kokoro.core.metrics import (
    NoAudioError,
    derive_metrics,
    invariant_problems,
    time_to_first_audible,
)


def result_from(times, samples, load=0.5):
    m = derive_metrics(times, samples, load)
    return {"model_load_time": load, "sample_rate": 24000, **m.as_dict()}


def test_derived_metrics_follow_the_reference_definitions():
    m = derive_metrics([0.4, 1.0, 1.3], [24000, 48000, 24000], model_load_time=0.25)
    assert m.per_sentence_inference == pytest.approx([0.4, 0.6, 0.3])
    assert m.time_to_first_audio == 0.4 and m.inference_time == 1.3 and m.total_time == 1.55
    assert m.audio_duration == 4.0 and m.real_time_factor == pytest.approx(1.3 / 4.0)
    assert m.samples_per_sec == pytest.approx(96000 / 1.3) and m.chunk_count == 3


@pytest.mark.parametrize("times,samples", [([], []), ([0.1, 0.2], [0, 0])])
def test_zero_audio_is_an_error_not_a_division_by_zero(times, samples):
    with pytest.raises(NoAudioError):
        derive_metrics(times, samples, 0.0)


def test_a_sound_result_has_no_problems():
    result = result_from([0.4, 1.0], [24000, 24000])
    assert invariant_problems(result, [0.4, 1.0], [24000, 24000]) == []


@pytest.mark.parametrize("key,value,needle", [
    ("inference_time", 2.0, "sums to"),
    ("time_to_first_audio", 0.3, "time_to_first_audio"),
    ("total_time", 9.0, "total_time"),
    ("audio_duration", 1.0, "audio_duration"),
    ("real_time_factor", 0.1, "real_time_factor"),
    ("samples_per_sec", 1.0, "samples_per_sec"),
    ("chunk_count", 3, "chunk_count"),
])
def test_each_broken_invariant_is_named(key, value, needle):
    result = result_from([0.4, 1.0], [24000, 24000])
    result[key] = value
    assert any(needle in p for p in invariant_problems(result))


def test_a_result_that_disagrees_with_its_chunk_events_is_caught():
    result = result_from([0.4, 1.0], [24000, 24000])
    problems = invariant_problems(result, [0.2, 1.0], [24000, 24000])
    assert any("disagrees with the chunk events" in p for p in problems)
    assert any("chunk events" in p for p in invariant_problems(result, [0.4], [24000]))


def test_negative_chunk_time_is_caught():
    result = result_from([0.4, 0.3], [24000, 24000])
    assert any("negative" in p for p in invariant_problems(result))


def test_time_to_first_audible_adds_leading_silence():
    audio = np.concatenate([np.zeros(12000, np.float32), 0.5 * np.ones(100, np.float32)])
    assert time_to_first_audible(0.2, audio) == pytest.approx(0.7)
    assert time_to_first_audible(0.2, np.zeros(10, np.float32)) is None
