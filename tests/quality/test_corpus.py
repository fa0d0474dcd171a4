"""Every case of the broken-audio corpus is caught with its own name; the real speech it is made from passes."""

import pytest

from pytest_kokoro.quality.assess import assess_round
from tests.quality.corpus import SAMPLE_RATE, broken_cases

CASE_IDS = ["noise", "nan", "clipped-11", "clipped-hard", "noise_tail", "silent", "too_quiet", "dc_offset",
            "leading_silence", "reversed", "phase-scrambled", "too_fast", "too_slow"]


def assess(speech, audio, chunk_samples, chunk_texts, scorer):
    return assess_round(audio, chunk_texts=chunk_texts, chunk_samples=chunk_samples, voice=speech.voice, speed=1.0,
                        sample_rate=SAMPLE_RATE, level="full", scorer=scorer)


def test_the_real_speech_passes_every_check(host_speech, scorer):
    quality = assess(host_speech, host_speech.audio, host_speech.chunk_samples, host_speech.chunk_texts, scorer)
    assert quality.failures == []
    assert quality.keys["quality_intelligibility"] == 1.0
    assert 0.69 < quality.keys["quality_duration_ratio"] < 1.38


@pytest.mark.parametrize("index", range(len(CASE_IDS)), ids=CASE_IDS)
def test_each_broken_case_is_caught_by_name(host_speech, scorer, index):
    case = broken_cases(host_speech)[index]
    quality = assess(host_speech, case.audio, case.chunk_samples, case.chunk_texts, scorer)
    assert case.name in quality.keys["quality_failures"], (case.why, quality.problems)
    # The reason is in the result beside the name, in words.
    assert quality.keys["quality_reasons"][quality.keys["quality_failures"].index(case.name)]


def test_the_corpus_ids_match_its_cases(host_speech):
    assert len(broken_cases(host_speech)) == len(CASE_IDS)
