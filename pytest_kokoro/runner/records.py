"""A case of the matrix and what was measured for it: plain data, cheap to import (the plugin builds cases at
collection time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Case:
    variant: str
    voice: str
    text_id: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.variant}-{self.voice}-{self.text_id}"


@dataclass
class CaseRecord:
    case: Case
    nodeid: str
    results: list[dict[str, Any]] = field(default_factory=list)
    first_rounds: int | None = None  # how many of ``results`` the first measurement made (the rest: a re-check)
    passed: bool = False  # the case kept every rule, gate and budget

    def values(self, key: str) -> list[float]:
        return [float(r[key]) for r in self.results]


@dataclass
class Settings:
    device_label: str
    rounds: int
    warmup: bool
    timeout: float
    speed: float = 1.0
