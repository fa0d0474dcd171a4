"""The playback keys against spec/playback_examples.json, which the Swift tests read too."""

import math

import pytest

from pytest_kokoro.core.metrics import NoAudioError, chunk_times_of, invariant_problems, replay_playback
from tests.conftest import load_spec

SPEC = load_spec("playback_examples.json")


@pytest.mark.parametrize("case", SPEC["cases"], ids=[c["name"] for c in SPEC["cases"]])
def test_shared_playback_cases(case):
    p = replay_playback(case["times"], case["samples"], case["sample_rate"])
    assert p.starts == pytest.approx(case["starts"], abs=1e-9)
    assert p.stall_time == pytest.approx(case["playback_stall_time"], abs=1e-9)
    assert p.stall_count == case["stall_count"]
    assert p.gapless_start_time == pytest.approx(case["gapless_start_time"], abs=1e-9)


def test_starting_at_the_gapless_start_never_stalls_and_a_moment_earlier_does():
    times, samples = [0.1, 0.5, 2.0, 2.2], [4800, 24000, 12000, 12000]
    p = replay_playback(times, samples)
    # Shift the player's start to the gapless start: replaying from there gives no gap.
    delayed = [max(t, p.gapless_start_time) for t in times[:1]] + times[1:]
    assert replay_playback(delayed, samples).stall_count == 0
    earlier = [p.gapless_start_time - 0.01] + times[1:]
    assert replay_playback(earlier, samples).stall_count == 1


def test_nothing_to_replay_is_an_error():
    with pytest.raises(NoAudioError):
        replay_playback([], [])
    with pytest.raises(ValueError, match="2 chunk times but 1 sample counts"):
        replay_playback([0.1, 0.2], [10])


def test_the_invariant_check_replays_a_results_own_chunks():
    per_sentence = [0.2, 1.3]
    result = {
        "per_sentence_inference": per_sentence, "inference_time": 1.5, "time_to_first_audio": 0.2,
        "model_load_time": 0.0, "total_time": 1.5, "sample_rate": 24000, "samples": 72000,
        "audio_duration": 3.0, "samples_per_sec": 48000.0, "real_time_factor": 0.5,
        "chunk_samples": [24000, 48000], "playback_stall_time": 0.3, "stall_count": 1, "gapless_start_time": 0.5,
    }
    assert chunk_times_of(per_sentence) == pytest.approx([0.2, 1.5])
    assert invariant_problems(result) == []
    lying = {**result, "stall_count": 0, "gapless_start_time": 0.2}
    problems = invariant_problems(lying)
    assert any(p.startswith("stall_count 0 is not the replay") for p in problems)
    assert any(p.startswith("gapless_start_time 0.2 is not the replay") for p in problems)
    assert not math.isclose(0.2, 0.5)
