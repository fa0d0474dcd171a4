"""Duration is judged against the phoneme tokens the model was given, in any script."""

import pytest

from pytest_kokoro.quality.duration import check_duration, duration_bounds, token_count


@pytest.mark.parametrize("text,seconds", [
    # Rounds the character rule failed (issue 21): an emoji-only text and an Arabic one, as the host harness spoke them.
    ("😀🎉👍🔥", 2.50),
    ("مرحبا بكم في اختبار النظام", 16.98),
])
def test_texts_in_other_scripts_are_judged_by_their_phonemes(text, seconds):
    tokens = token_count(text)
    assert tokens > 10, "espeak-ng speaks them: emoji by name, Arabic letter by letter"
    assert check_duration(seconds, [tokens]) is None


def test_the_same_tokens_at_twice_or_half_the_speed_fail_by_name():
    tokens = [74, 86]  # the default text's two chunks, as the harness phonemizes them
    low, high = duration_bounds(tokens)
    assert low < 10.1 < high  # jf_alpha speaks them in 10.1 s
    assert check_duration(10.1 / 2, tokens).name == "too_short"
    assert check_duration(12.85 * 2, tokens).name == "too_long"  # jf_nezumi, the slowest voice, at half speed
    assert check_duration(10.1 / 2, tokens, speed=2.0) is None  # the speed the round asked for


def test_a_chunk_with_no_tokens_expects_no_audio():
    assert duration_bounds([0]) == (0.0, 0.5)
    assert check_duration(0.0, [0]) is None


def test_token_count_is_the_host_harness_tokenizer():
    # harness/onnx_engine.py tokenizes "Hi there." into 10 tokens and "This is Kokoro." into 17.
    assert [token_count("Hi there."), token_count("This is Kokoro.")] == [10, 17]
