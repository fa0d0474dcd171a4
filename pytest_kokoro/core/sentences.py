"""The one sentence-splitting rule every harness uses, so chunk counts match across devices.

Text is cleaned first (clean_text). Then it is kokoro_benchmark.py's rule: paragraphs on blank lines; sentences after . ! ? … 。 ！ ？ when the next one
starts with a capital (optionally behind a quote or bracket); common abbreviations re-joined; a chunk longer
than MAX_CHUNK_CHARS code points is cut at the last , ; : — – that keeps it under the limit, else at the last
space, else hard. The limit keeps every English chunk under Kokoro's 510-token budget. The Swift twin is
ios-harness/Sources/KokoroBenchCore/SentenceSplitter.swift; both are checked against spec/sentence_splits.json.

``split_text`` adds the other strategies of ``--kokoro-split`` on top of that rule (clauses, adaptive, whole;
docs/protocol.md "Split strategies"); their Swift twin is SplitStrategy.swift, and spec/split_strategies.json
checks both.
"""

from __future__ import annotations

import re
import unicodedata

from pytest_kokoro.core.pace import DEFAULT_PACE, Pace

MAX_CHUNK_CHARS = 350
SPLIT_NAME = "sentences"

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…。！？])\s+(?=[“\"'(\[]?[A-Z])")
_ABBREVIATIONS = frozenset({"Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Sr.", "Jr.", "St."})
_CLAUSE_MARKS = frozenset(",;:—–")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
# Control, format, surrogate and private-use code points: espeak-ng drops the words after a NUL and reads escape
# sequences aloud, so they go before splitting. Whitespace controls (tab, newline, ...) stay: they separate words.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
_KEPT_CONTROLS = frozenset("\t\n\v\f\r")


def clean_text(text: str) -> str:
    """``text`` without ANSI escape sequences and without code points no engine should be asked to read."""
    text = _ANSI_ESCAPE.sub("", text)
    return "".join(
        ch for ch in text if ch in _KEPT_CONTROLS or unicodedata.category(ch) not in _DROPPED_CATEGORIES
    )


def split_sentences(text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    """Cut ``text`` into the chunks a harness synthesizes one at a time; [] when nothing is left to say."""
    chunks: list[str] = []
    for paragraph in _PARAGRAPH_BREAK.split(clean_text(text)):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        for sentence in _rejoin_abbreviations(_SENTENCE_BREAK.split(paragraph)):
            chunks.extend(_cut_long(sentence, max_chars))
    return chunks


def _rejoin_abbreviations(pieces: list[str]) -> list[str]:
    joined: list[str] = []
    for piece in pieces:
        if joined and joined[-1].split()[-1] in _ABBREVIATIONS:
            joined[-1] = f"{joined[-1]} {piece}"
        else:
            joined.append(piece)
    return joined


def _cut_long(sentence: str, max_chars: int) -> list[str]:
    pieces: list[str] = []
    rest = sentence.strip()
    while len(rest) > max_chars:
        cut = _cut_point(rest, max_chars)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _cut_point(text: str, max_chars: int) -> int:
    """The index to cut at: a space after a clause mark, else a space, else the limit itself."""
    spaces = [i for i in range(1, max_chars + 1) if text[i].isspace()]
    after_clause = [i for i in spaces if text[i - 1] in _CLAUSE_MARKS]
    if after_clause:
        return after_clause[-1]
    if spaces:
        return spaces[-1]
    return max_chars
SPLIT_STRATEGIES = ("sentences", "clauses", "adaptive", "whole")
_CLAUSE_ENDS = frozenset(",;:")
# adaptive: the first chunk is the first clause when it has at most this many words, else its first words.
ADAPTIVE_FIRST_CLAUSE_MAX_WORDS = 5
ADAPTIVE_FIRST_WORDS = 3


def split_text(text: str, strategy: str = SPLIT_NAME, max_chars: int = MAX_CHUNK_CHARS,
               pace: Pace = DEFAULT_PACE) -> list[str]:
    """The chunks of ``text`` under one of SPLIT_STRATEGIES; every chunk is at most ``max_chars`` code points.
    ``pace`` is the device's, measured before T1 (core/pace.py); only ``adaptive`` uses it."""
    if strategy == "sentences":
        return split_sentences(text, max_chars)
    if strategy == "clauses":
        return split_clauses(text, max_chars)
    if strategy == "adaptive":
        return split_adaptive(text, max_chars, pace)
    if strategy == "whole":
        return split_whole(text, max_chars)
    raise ValueError(f"unknown split strategy {strategy!r}; known: {', '.join(SPLIT_STRATEGIES)}")


def split_clauses(text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    """The sentences, each also cut after every , ; : that whitespace follows."""
    pieces: list[str] = []
    for sentence in split_sentences(text, max_chars):
        start = 0
        for i in range(1, len(sentence)):
            if sentence[i].isspace() and sentence[i - 1] in _CLAUSE_ENDS:
                pieces.append(sentence[start:i].strip())
                start = i
        pieces.append(sentence[start:].strip())
    return pieces


def split_whole(text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    """One chunk when the text fits the limit; else the sentences packed greedily, joined by one space."""
    chunks: list[str] = []
    for sentence in split_sentences(text, max_chars):
        if chunks and len(chunks[-1]) + 1 + len(sentence) <= max_chars:
            chunks[-1] = f"{chunks[-1]} {sentence}"
        else:
            chunks.append(sentence)
    return chunks


def split_adaptive(text: str, max_chars: int = MAX_CHUNK_CHARS, pace: Pace = DEFAULT_PACE) -> list[str]:
    """A short first chunk for the earliest audio, then chunks as long as the device, at ``pace``, can synthesize
    before the audio queued ahead of them runs out (clauses packed whole, a clause cut at words when none fits, a
    whole clause when not even its first word fits: a stall is certain then, and one call per word would make it
    longer)."""
    units = split_clauses(text, max_chars)
    if not units:
        return []
    first_cut = _word_start(units[0], ADAPTIVE_FIRST_WORDS)
    if _word_start(units[0], ADAPTIVE_FIRST_CLAUSE_MAX_WORDS) is not None and first_cut is not None:
        chunks = [units[0][:first_cut].rstrip()]
        units[0] = units[0][first_cut:]
    else:
        chunks = [units.pop(0)]
    ready = pace.compute_us(len(chunks[0]))
    queue_end = ready + pace.audio_us(len(chunks[0]))
    while units:
        budget = min(max_chars, pace.max_chars(queue_end - ready))
        chunk = ""
        while units and len(joined := f"{chunk} {units[0]}" if chunk else units[0]) <= budget:
            chunk = joined
            units.pop(0)
        if not chunk:
            cut = _word_cut(units[0], budget)
            chunk = units[0][:cut].rstrip()
            units[0] = units[0][cut:].lstrip()
            if not units[0]:
                units.pop(0)
        ready += pace.compute_us(len(chunk))
        queue_end = max(queue_end, ready) + pace.audio_us(len(chunk))
        chunks.append(chunk)
    return chunks


def _word_start(text: str, count: int) -> int | None:
    """The index where word ``count + 1`` of ``text`` (stripped) starts; None when it has ``count`` words or fewer."""
    words = 0
    for i, ch in enumerate(text):
        if not ch.isspace() and (i == 0 or text[i - 1].isspace()):
            if words == count:
                return i
            words += 1
    return None


def _word_cut(text: str, limit: int) -> int:
    """Where to cut ``text`` (stripped, longer than ``limit``) so the head is the most words within ``limit`` code
    points: the last whitespace at an index <= limit, else the end (the whole text, when not even one word fits)."""
    within = [i for i in range(1, min(limit, len(text) - 1) + 1) if text[i].isspace()]
    return within[-1] if within else len(text)
