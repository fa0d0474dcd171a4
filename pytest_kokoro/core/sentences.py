"""The one sentence-splitting rule every harness uses, so chunk counts match across devices.

Text is cleaned first (clean_text). Then it is kokoro_benchmark.py's rule: paragraphs on blank lines; sentences after . ! ? … 。 ！ ？ when the next one
starts with a capital (optionally behind a quote or bracket); common abbreviations re-joined; a chunk longer
than MAX_CHUNK_CHARS code points is cut at the last , ; : — – that keeps it under the limit, else at the last
space, else hard. The limit keeps every English chunk under Kokoro's 510-token budget. The Swift twin is
ios-harness/Sources/KokoroBenchCore/SentenceSplitter.swift; both are checked against spec/sentence_splits.json.
"""

from __future__ import annotations

import re
import unicodedata

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
