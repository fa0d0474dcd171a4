"""What produced the numbers: each run's devices as the report's columns ("sources"), and the facts their rounds
recorded about the machine, the OS, the engine, the versions, the build and the weights.

A source is one device label within one results file. Rounds of the same device from different files are never
pooled: when a device appears in several files, its sources carry the run's time in their label. A fact is shown
as the rounds recorded it: every distinct value, "none" where a round wrote null, and "not recorded" where the
key is absent (files written before the key existed).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pytest_kokoro.report.figures import device_sort_key
from pytest_kokoro.report.rounds import Run

NOT_RECORDED = "not recorded"

# (heading, how to read it from a round): the facts shown per source, at the top and beside each comparison.
FACTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("machine", ("device_model",)),
    ("OS", ("platform", "os_version")),
    ("engine", ("engine",)),
    ("engine version", ("engine_version",)),
    ("onnxruntime", ("onnxruntime_version",)),
    ("harness version", ("harness_version",)),
    ("build configuration", ("build_configuration",)),
)


def broken_rules(result: dict[str, Any]) -> list[str] | None:
    """The rules a round broke as its file recorded them (runner/session.py); None for files without the key."""
    rules = result.get("broken_rules")
    return list(rules) if isinstance(rules, list) else None


def is_broken(result: dict[str, Any]) -> bool:
    return bool(broken_rules(result))


@dataclass
class Source:
    label: str  # the column's name in every table and figure legend
    device: str
    run: Run
    rounds: list[dict[str, Any]] = field(default_factory=list)

    @property
    def simulated(self) -> bool:
        return any(r.get("simulated") for r in self.rounds)

    @property
    def broken(self) -> int:
        return sum(1 for r in self.rounds if is_broken(r))

    @property
    def unchecked(self) -> int:
        """Rounds from a file that predates ``broken_rules``: whether they kept the rules is not recorded."""
        return sum(1 for r in self.rounds if broken_rules(r) is None)

    def fact(self, keys: tuple[str, ...], rounds: list[dict[str, Any]] | None = None) -> str:
        values: list[str] = []
        for r in rounds if rounds is not None else self.rounds:
            if not all(k in r for k in keys):
                value = NOT_RECORDED
            else:
                parts = [r[k] for k in keys]
                value = " ".join("none" if p is None else str(p) for p in parts)
            if value not in values:
                values.append(value)
        return ", ".join(values) if values else NOT_RECORDED

    def facts(self, variants: list[str] | None = None) -> dict[str, Any]:
        """Every fact of this source's rounds (of ``variants`` only, when given), in FACTS order, then the weights."""
        rounds = [r for r in self.rounds if variants is None or r["variant"] in variants]
        out: dict[str, Any] = {heading: self.fact(keys, rounds) for heading, keys in FACTS}
        out["simulated"] = ("yes: SIMULATED engine, not a measurement" if any(r.get("simulated") for r in rounds)
                            else self.fact(("simulated",), rounds).replace("False", "no"))
        weights = []
        by_variant: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rounds:
            by_variant[r["variant"]].append(r)
        for variant, group in by_variant.items():
            sha = self.fact(("variant_sha256",), group)
            sha = sha[:16] + "…" if len(sha) == 64 else sha
            weights.append(f"{variant}: sha256 {sha}; source {self.fact(('weights_source',), group)}")
        out["weights"] = weights
        out["results file"] = f"{self.run.path.name} ({self.run.label})"
        return out


def sources_of(runs: list[Run]) -> list[Source]:
    """One source per (results file, device), in run then device order; every round gets its source's label
    under ``_source``."""
    runs_of_device: dict[str, set[int]] = defaultdict(set)
    for index, run in enumerate(runs):
        for r in run.rounds:
            runs_of_device[r["device"]].add(index)
    sources: dict[tuple[int, str], Source] = {}
    for index, run in enumerate(runs):
        for r in run.rounds:
            key = (index, r["device"])
            if key not in sources:
                label = r["device"]
                if len(runs_of_device[r["device"]]) > 1:
                    label = f"{label} · run {run.label}"
                sources[key] = Source(label, r["device"], run)
            sources[key].rounds.append(r)
    for source in sources.values():
        if source.simulated:
            source.label += " (SIMULATED)"
        for r in source.rounds:
            r["_source"] = source.label
    return sorted(sources.values(), key=lambda s: (device_sort_key(s.device), s.run.label, str(s.run.path)))


def source_order(sources: list[Source]) -> dict[str, int]:
    return {source.label: index for index, source in enumerate(sources)}
