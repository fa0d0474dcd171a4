"""The text front end under fuzzing, without a model call: cleaning, splitting, phonemizing, tokenizing.

``host_front_end`` takes a text the way the host harness does (protocol.as_received: what arrives over the wire),
splits it with the shared rule and phonemizes and tokenizes each chunk with the engine's own tokenizer
(OnnxKokoroEngine.tokens, the call synthesize makes), and raises the EngineError a run would raise: empty_text,
text_too_long, unspeakable_text. ``front_end_problems`` says what is wrong with its answer.

``SwiftSplitter`` keeps one ``KokoroBenchHarness --split-batch`` process open and asks it for the chunks of one text
at a time, so the Python and Swift splitters can be compared on thousands of texts in seconds.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pytest_kokoro.core import protocol
from pytest_kokoro.core.pace import Pace
from pytest_kokoro.core.sentences import split_sentences
from pytest_kokoro.fuzz.profiles import TEXT_ERROR_CODES
from pytest_kokoro.harness.onnx_engine import MAX_TOKENS, EngineError, OnnxKokoroEngine


def host_front_end(engine: OnnxKokoroEngine, text: str, voice: str) -> list[list[int]]:
    """The phoneme token ids of each chunk the host harness would synthesize for ``text``.

    The same checks as a `run` (harness/server.py): no chunk is empty_text; a chunk over Kokoro's token limit is
    text_too_long (raised by engine.tokens); no token in any chunk is unspeakable_text (a run finds that out as
    zero samples).
    """
    chunks = split_sentences(protocol.as_received(text))
    if not chunks:
        raise EngineError("empty_text", "the text has nothing to say once cleaned")
    tokens = [engine.tokens(chunk, voice) for chunk in chunks]
    if not any(tokens):
        raise EngineError("unspeakable_text", "the text yields no phonemes the model knows")
    return tokens


def front_end_problems(answer: list[list[int]] | EngineError) -> list[str]:
    """What is wrong with the front end's answer to a text; [] for chunks the model accepts or a typed text error."""
    if isinstance(answer, EngineError):
        return [] if answer.code in TEXT_ERROR_CODES else [f"[{answer.code}] is no text error: {answer}"]
    return [f"chunk {index} has {len(tokens)} tokens, over Kokoro's {MAX_TOKENS}"
            for index, tokens in enumerate(answer) if len(tokens) > MAX_TOKENS]


class SwiftSplitterError(Exception):
    """The Swift splitter process died, answered garbage or refused a text."""


class SwiftSplitter:
    """``KokoroBenchHarness --split-batch``, held open: one JSON string in, one JSON array of chunks out."""

    def __init__(self, binary: Path):
        self._process = subprocess.Popen([str(binary), "--split-batch"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def split(self, text: str, strategy: str | None = None, pace: Pace | None = None) -> list[str]:
        """The Swift chunks of ``text``: the sentence rule, or ``strategy`` (adaptive with ``pace``)."""
        # ensure_ascii: every non-ASCII character escaped; lone surrogates as \\uXXXX, which the Swift reader drops
        # as the protocol does (so compare with split_sentences(protocol.as_received(text))).
        request = text if strategy is None else {"text": text, "split": strategy,
                                                 **({"pace": pace.as_json()} if pace else {})}
        self._process.stdin.write(json.dumps(request).encode("ascii") + b"\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise SwiftSplitterError(f"the Swift splitter exited (status {self._process.poll()}) on {text[:80]!r}")
        answer = json.loads(line)
        if isinstance(answer, dict):
            raise SwiftSplitterError(f"the Swift splitter refused {text[:80]!r}: {answer.get('error')}")
        return answer

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait(timeout=10)
        self._process.stdout.close()
