"""The split strategies of --kokoro-split against spec/split_strategies.json, which the Swift tests read too."""

import pytest

from pytest_kokoro.core import sentences
from pytest_kokoro.core.sentences import MAX_CHUNK_CHARS, SPLIT_STRATEGIES, split_sentences, split_text
from tests.conftest import load_spec

SPEC = load_spec("split_strategies.json")


def test_spec_names_the_strategies_and_the_adaptive_model_of_the_code():
    assert SPEC["strategies"] == list(SPLIT_STRATEGIES)
    assert SPEC["max_chunk_chars"] == MAX_CHUNK_CHARS
    for key, value in SPEC["adaptive"].items():
        assert getattr(sentences, f"ADAPTIVE_{key.upper()}") == value, key


@pytest.mark.parametrize("strategy", SPLIT_STRATEGIES)
@pytest.mark.parametrize("case", SPEC["cases"], ids=[c["name"] for c in SPEC["cases"]])
def test_shared_strategy_cases(case, strategy):
    assert split_text(case["text"], strategy) == case["chunks"][strategy]


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
