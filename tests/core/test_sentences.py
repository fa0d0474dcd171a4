import json

import pytest

from pytest_kokoro.core.sentences import MAX_CHUNK_CHARS, clean_text, split_sentences
from tests.conftest import load_spec

SPLITS = load_spec("sentence_splits.json")


def test_spec_limit_is_the_code_limit():
    assert SPLITS["max_chunk_chars"] == MAX_CHUNK_CHARS


@pytest.mark.parametrize("case", SPLITS["cases"], ids=[c["name"] for c in SPLITS["cases"]])
def test_shared_split_cases(case):
    assert split_sentences(case["text"]) == case["chunks"]


def test_reference_news_text_gives_the_reference_chunk_count(reference_fixture):
    results = json.loads(reference_fixture.read_text())
    for result in results:
        assert len(split_sentences(result["text"])) == len(result["per_sentence_inference"]) == 7


def test_no_chunk_exceeds_the_limit():
    text = ("A clause, " * 200) + "x" * 1000 + " end."
    chunks = split_sentences(text)
    assert chunks and all(len(c) <= MAX_CHUNK_CHARS for c in chunks)
    assert "".join(chunks).replace(" ", "") == text.replace(" ", "")


def test_cleaning_keeps_whitespace_and_drops_escapes():
    assert clean_text("a\tb\nc\x00d\x1b[1me\u200bf\ud800g") == "a\tb\ncdefg"
