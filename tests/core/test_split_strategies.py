"""The split strategies of --kokoro-split against spec/split_strategies.json, which the Swift tests read too."""

import pytest

from pytest_kokoro.core import pace, sentences
from pytest_kokoro.core.pace import DEFAULT_PACE, Pace, fit_pace
from pytest_kokoro.core.sentences import MAX_CHUNK_CHARS, SPLIT_STRATEGIES, split_sentences, split_text
from tests.conftest import load_spec

SPEC = load_spec("split_strategies.json")


def test_spec_names_the_strategies_and_the_adaptive_model_of_the_code():
    assert SPEC["strategies"] == list(SPLIT_STRATEGIES)
    assert SPEC["max_chunk_chars"] == MAX_CHUNK_CHARS
    adaptive = SPEC["adaptive"]
    assert (adaptive["first_clause_max_words"], adaptive["first_words"]) == (
        sentences.ADAPTIVE_FIRST_CLAUSE_MAX_WORDS, sentences.ADAPTIVE_FIRST_WORDS)
    assert adaptive["margin_percent"] == pace.PACE_MARGIN_PERCENT
    assert adaptive["probes"] == list(pace.PACE_PROBES)
    assert Pace.from_json(adaptive["default_pace"]) == DEFAULT_PACE


@pytest.mark.parametrize("strategy", SPLIT_STRATEGIES)
@pytest.mark.parametrize("case", SPEC["cases"], ids=[c["name"] for c in SPEC["cases"]])
def test_shared_strategy_cases(case, strategy):
    assert split_text(case["text"], strategy) == case["chunks"][strategy]


@pytest.mark.parametrize("case", SPEC["pace_cases"], ids=[c["name"] for c in SPEC["pace_cases"]])
def test_adaptive_cuts_for_the_pace_it_is_given(case):
    assert split_text(case["text"], "adaptive", pace=Pace.from_json(case["pace"])) == case["chunks"]


@pytest.mark.parametrize("case", SPEC["fit_cases"], ids=[c["name"] for c in SPEC["fit_cases"]])
def test_the_pace_is_the_line_through_the_two_probes(case):
    assert fit_pace([tuple(p) for p in case["probes"]]).as_json() == case["pace"]


def test_probes_of_one_length_cannot_give_a_pace():
    with pytest.raises(ValueError, match="two probes of different length"):
        fit_pace([(9, 0.7, 1.4), (9, 0.8, 1.4)])


def test_a_slower_device_gets_shorter_chunks_after_the_first():
    text = SPEC["cases"][0]["text"]
    fast, slow = (split_text(text, "adaptive", pace=Pace(100_000, 8_000, 900_000, 59_000)),
                  split_text(text, "adaptive", pace=Pace(410_000, 33_000, 900_000, 59_000)))
    assert fast[0] == slow[0] == "Hello,"
    assert len(fast) < len(slow) and len(fast[1]) > len(slow[1])


def test_on_the_modelled_device_no_adaptive_chunk_is_late():
    """Replayed with the pace it planned with (margin included), every chunk is ready before the audio ahead of
    it runs out, on every spec text a device that keeps up can stream."""
    for case in SPEC["cases"] + SPEC["pace_cases"]:
        plan = Pace.from_json(case.get("pace", DEFAULT_PACE.as_json()))
        if plan.compute_us(100) >= plan.audio_us(100):
            continue  # slower than real time: no cut avoids a stall
        chunks = split_text(case["text"], "adaptive", pace=plan) or [""]
        ready = plan.compute_us(len(chunks[0]))
        queue_end = ready + plan.audio_us(len(chunks[0]))
        for chunk in chunks[1:]:
            ready += plan.compute_us(len(chunk))
            assert ready <= queue_end or " " not in chunk, (case["name"], chunk)
            queue_end = max(queue_end, ready) + plan.audio_us(len(chunk))


def test_sentences_is_the_reference_rule_byte_for_byte():
    for case in load_spec("sentence_splits.json")["cases"]:
        assert split_text(case["text"], "sentences") == split_sentences(case["text"])


@pytest.mark.parametrize("strategy", SPLIT_STRATEGIES)
def test_a_long_text_without_punctuation_is_cut_at_words_within_the_limit(strategy):
    text = " ".join(f"w{i}" for i in range(400))
    chunks = split_text(text, strategy)
    assert len(chunks) > 1
    assert all(len(c) <= MAX_CHUNK_CHARS for c in chunks)
    assert " ".join(chunks) == text


def test_adaptive_starts_with_a_short_chunk_then_grows():
    chunks = split_text("The harbor was quiet before dawn. Fishing boats rocked gently against the pier, their "
                        "lanterns still lit.", "adaptive")
    assert chunks[0] == "The harbor was"
    assert len(chunks[1]) > len(chunks[0])


def test_an_unknown_strategy_is_named():
    with pytest.raises(ValueError, match="unknown split strategy 'words'; known: sentences, clauses"):
        split_text("Hi.", "words")
