"""The end of a phone's run: the results the app wrote on the phone compared with what was streamed to the host,
and the note on rounds left out of gates and baselines."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class PullReport:
    """What the app wrote on the phone compared with what was streamed to the host."""

    udid: str
    files: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        where = ", ".join(str(f) for f in self.files) or "no new file"
        if not self.problems:
            return [f"iphone {self.udid}: the app's own results ({where}) match what was streamed"]
        return [f"iphone {self.udid}: MISMATCH between the app's results and the stream: {p}" for p in self.problems]


def compare_results(on_phone: list[dict[str, Any]], streamed: list[dict[str, Any]]) -> list[str]:
    """Same number of results, same per_sentence_inference, in order."""
    problems = []
    if len(on_phone) != len(streamed):
        problems.append(f"the app wrote {len(on_phone)} results, {len(streamed)} were streamed to the host")
    for index, (written, received) in enumerate(zip(on_phone, streamed)):
        a, b = written.get("per_sentence_inference"), received.get("per_sentence_inference")
        same = (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(a, b)))
        if not same:
            problems.append(f"result {index} ({received.get('model_name')}, {received.get('voice')}): "
                            f"per_sentence_inference {a} on the phone, {b} streamed")
    return problems


def exclusion_note(udid: str | None, results: list[dict[str, Any]]) -> str | None:
    """How many of this phone's rounds name a reason to be left out of gates and baselines (a Debug build, a hot
    start, Low Power Mode, the app not in front), and which; None when every round may gate."""
    from pytest_kokoro.core.schema import exclusion_counts

    flagged, counts = exclusion_counts(results)
    if not flagged:
        return None
    why = ", ".join(f"{reason}: {count}" for reason, count in sorted(counts.items()))
    fix = (" Build the app Release (docs/iphone.md, step 3)." if "debug_build" in counts else "")
    return (f"iphone {udid}: {flagged} of {len(results)} rounds are kept in the results but left out of gates and "
            f"baselines ({why}).{fix}")
