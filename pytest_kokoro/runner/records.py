"""A case of the matrix and what was measured for it: plain data, cheap to import (the plugin builds cases at
collection time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_kokoro.core.sentences import SPLIT_NAME


@dataclass(frozen=True)
class Case:
    variant: str
    voice: str
    text_id: str
    text: str
    engine: str | None = None  # set when --kokoro-engine names more than one: the engine is then a matrix axis
    split: str = SPLIT_NAME

    @property
    def id(self) -> str:
        # The reference's rule and a single engine keep the ids (and the baselines stored under them) they always had.
        split = "" if self.split == SPLIT_NAME else f"-{self.split}"
        engine = f"-{self.engine}" if self.engine else ""
        return f"{self.variant}-{self.voice}-{self.text_id}{split}{engine}"


@dataclass
class CaseRecord:
    case: Case
    nodeid: str
    results: list[dict[str, Any]] = field(default_factory=list)
    first_rounds: int | None = None  # how many of ``results`` the first measurement made (the rest: a re-check)
    passed: bool = False  # the case kept every rule, gate and budget

    def values(self, key: str) -> list[float]:
        # Rounds without the key (a check that did not run: null) give no value, never a crash.
        return [float(r[key]) for r in self.results if r.get(key) is not None]


@dataclass
class Settings:
    device_label: str
    rounds: int
    warmup: bool
    timeout: float
    speed: float = 1.0
    quality: str = "full"  # --kokoro-quality: full (with intelligibility) or basic (model-free checks only)
    hot_factor: float = 1.5  # --kokoro-hot-factor: the calibration rule of runner/heat.py (0: off)


class RunLog:
    """What ran last in this run, across every session (engines, A/B arms): each round records the one before it,
    so an order effect (heat, caches, a harness that ran just before) can be seen in the results."""

    def __init__(self) -> None:
        self.last: str | None = None
