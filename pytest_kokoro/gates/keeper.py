"""Regression gates for a run: every case × gated metric of the run is one family of verdicts.

The family: the run's collected benchmark cases × the gated metrics, K verdicts, known before anything is measured.
A verdict fails its case when p < alpha / K, the first step of Holm's step-down procedure: such a verdict is
rejected by Holm whatever the other verdicts turn out to be, so a case can fail as soon as it is measured. At the
end of the run Holm's later steps (alpha / (K - 1), ...) may reject more verdicts; they can only do so after a
first-step rejection, which already failed the run, and they are reported then. The family-wise false-alarm rate
of a run is at most alpha.

A verdict counts a regression only when both measurements show it: a case whose first measurement has p < alpha
for some metric is measured again, and the verdict's p is the larger of the two (gates/statistics.py).

The statistics are in statistics.py and verdicts.py, the storage in baselines.py; this joins them to a run.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pytest_kokoro.gates.baselines import BaselineError, BaselineStore, DeviceIdentity
from pytest_kokoro.gates.spec import GateSpec, calibrated, metric_values
from pytest_kokoro.gates.statistics import holm, rounds_needed, smallest_p
from pytest_kokoro.gates.verdicts import (
    IMPROVEMENT,
    REGRESSION,
    UNCHANGED,
    Comparison,
    Verdict,
    compare_paired,
    compare_unpaired,
)


@dataclass(frozen=True)
class Judgement:
    """A verdict on one metric of one case, with what the user reads beside it."""

    verdict: Verdict
    note: str = ""

    @property
    def is_regression(self) -> bool:
        return self.verdict.is_regression

    @property
    def message(self) -> str:
        return self.verdict.message() + self.note


class GateSetupError(Exception):
    """The baseline cannot be used for this run; the message says why and what to do."""


class GateKeeper:
    def __init__(self, store: BaselineStore, spec: GateSpec, baseline: str | None, save_as: str | None,
                 paired: bool = False):
        self.store = store
        self.spec = spec
        self.baseline_ref = baseline
        self.save_as = save_as
        self.paired = paired  # A/B: a baseline arm's rounds interleaved with this run's
        self.family_size = 0
        self._baselines: dict[DeviceIdentity, Any] = {}
        self._notes: dict[tuple[str, str], str] = {}
        self.judgements: dict[str, list[Judgement]] = {}
        self.saved: list[Path] = []

    @property
    def gating(self) -> bool:
        return self.baseline_ref is not None or self.paired

    @property
    def first_step_level(self) -> float:
        return self.spec.alpha / max(1, self.family_size)

    def set_family(self, cases: int) -> None:
        """The run's cases are collected: K = cases × gated metrics."""
        self.family_size = cases * len(self.spec.thresholds)

    def rounds_problem(self, rounds: int) -> str | None:
        """Why ``rounds`` rounds a side could never fail this run's gate, with the number needed; None when they can."""
        if not self.gating or self.family_size == 0:
            return None
        needed = rounds_needed(self.spec.alpha, self.family_size, self.paired)
        if rounds >= needed:
            return None
        how = "A/B (paired signed-rank)" if self.paired else "stored-baseline (Mann-Whitney)"
        return (f"--kokoro-rounds {rounds} is too few for the {how} gate ever to fail: with {self.family_size} "
                f"verdicts (cases × gated metrics) at alpha={self.spec.alpha:g}, the best p of {rounds} rounds, "
                f"{smallest_p(rounds, self.paired):.2g}, cannot go below alpha / {self.family_size} = "
                f"{self.first_step_level:.2g}. Use --kokoro-rounds {needed} or more (docs/gates.md recommends "
                f"the round counts whose error rates were measured)")

    # -- comparing -----------------------------------------------------------------------------------------------

    def compare_interleaved(self, baseline_results: Sequence[Mapping[str, Any]],
                            candidate_results: Sequence[Mapping[str, Any]]) -> list[Comparison]:
        """A comparison per gated metric, against baseline rounds interleaved with these in the same run: round i of
        each arm ran back to back, so they are compared in pairs, which cancels the machine's drift and load swings;
        no calibration is needed."""
        base, candidate = metric_values(baseline_results), metric_values(candidate_results)
        return [compare_paired(metric, base[metric], candidate[metric], threshold)
                for metric, threshold in self.spec.thresholds.items()]

    def compare(self, case_id: str, results: Sequence[Mapping[str, Any]]) -> list[Comparison]:
        """A comparison per gated metric with the stored baseline; GateSetupError when there is nothing to compare
        with, or too little for a verdict ever to fail.

        When both sides carry calibration times, each round's value is divided by its round's calibration time
        first, so a machine that is busier or throttled than when the baseline was taken does not read as a
        regression (and a slower engine still does).
        """
        baseline = self._baseline_for(DeviceIdentity.from_result(results[0]))
        if case_id not in baseline.cases:
            raise GateSetupError(f"baseline {baseline.name!r} ({baseline.path}) has no case {case_id}; "
                                 f"it has: {', '.join(sorted(baseline.cases)) or 'none'}. Save a baseline that "
                                 "includes it with --kokoro-save-baseline")
        base, candidate = baseline.cases[case_id], metric_values(results)
        comparisons = []
        for metric, threshold in self.spec.thresholds.items():
            base_values = base.get(metric) or []
            if smallest_p(len(results), False, len(base_values)) >= self.first_step_level:
                raise GateSetupError(
                    f"baseline {baseline.name!r} ({baseline.path}) has {len(base_values)} {metric} rounds of {case_id}: "
                    f"with this run's {len(results)} no verdict could reach alpha / {self.family_size} = "
                    f"{self.first_step_level:.2g}. Record it again with --kokoro-rounds "
                    f"{rounds_needed(self.spec.alpha, self.family_size, False)} or more")
            base_calibrated, candidate_calibrated = calibrated(base, metric), calibrated(candidate, metric)
            if base_calibrated is not None and candidate_calibrated is not None:
                comparison = compare_unpaired(f"{metric}/calibration", base_calibrated, candidate_calibrated,
                                              threshold)
                self._notes[(case_id, comparison.metric)] = (
                    f"; raw medians {_median(candidate[metric]):.3g} vs {_median(base_values):.3g}, calibration "
                    f"{_median(candidate['calibration']) * 1000:.1f} vs {_median(base['calibration']) * 1000:.1f} ms")
            else:
                comparison = compare_unpaired(metric, base_values, candidate[metric], threshold)
            comparisons.append(comparison)
        return comparisons

    def _baseline_for(self, identity: DeviceIdentity):
        if identity not in self._baselines:
            try:
                self._baselines[identity] = self.store.load(self.baseline_ref, identity)
            except BaselineError as error:
                self._baselines[identity] = error
        found = self._baselines[identity]
        if isinstance(found, BaselineError):
            raise GateSetupError(f"--kokoro-baseline {self.baseline_ref}: {found}")
        return found

    # -- judging -------------------------------------------------------------------------------------------------

    def needs_recheck(self, comparisons: Iterable[Comparison]) -> bool:
        """Whether a metric could still count as a regression (p < alpha, the most any Holm step allows): then the
        case is measured a second time."""
        return any(c.p_regression < self.spec.alpha for c in comparisons)

    def decide(self, case_id: str, first: Sequence[Comparison],
               recheck: Sequence[Comparison] | None = None) -> list[Judgement]:
        """The case's verdicts at Holm's first step (alpha / K); recorded for the step-down at the end of the run."""
        level = self.first_step_level
        judgements = []
        for index, comparison in enumerate(first):
            again = recheck[index] if recheck is not None else None
            verdict = Verdict(comparison, again, UNCHANGED, level, self.spec.alpha, max(1, self.family_size))
            if verdict.p < level:
                verdict = replace(verdict, verdict=REGRESSION)
            elif comparison.p_improvement < level:
                verdict = replace(verdict, verdict=IMPROVEMENT)
            judgements.append(Judgement(verdict, self._note(case_id, comparison.metric)))
        self.judgements[case_id] = judgements
        return judgements

    def _note(self, case_id: str, metric: str) -> str:
        note = self._notes.get((case_id, metric), "")
        return note + (" (A/B, rounds interleaved in this run)" if self.paired else "")

    def step_down(self) -> list[tuple[str, Judgement]]:
        """Holm's later steps over every verdict of the run: the verdicts they reject that the first step did not,
        now marked as regressions. Under pytest-xdist a worker steps down over its own share with the whole
        family's size, which rejects a subset of what Holm over the whole family would."""
        entries = [(case_id, index, judgement) for case_id, judgements in self.judgements.items()
                   for index, judgement in enumerate(judgements)]
        if not entries:
            return []
        p_values = [judgement.verdict.p for _, _, judgement in entries]
        family = max(self.family_size, len(entries))
        rejected = holm(p_values, self.spec.alpha, family_size=family)
        order = sorted(range(len(entries)), key=lambda i: p_values[i])
        newly = []
        for step, position in enumerate(order):
            case_id, index, judgement = entries[position]
            if rejected[position] and not judgement.is_regression:
                verdict = replace(judgement.verdict, verdict=REGRESSION, level=self.spec.alpha / (family - step),
                                  step_down=True)
                self.judgements[case_id][index] = updated = Judgement(verdict, judgement.note)
                newly.append((case_id, updated))
        return newly

    def save(self, cases: Iterable[tuple[str, Sequence[Mapping[str, Any]]]]) -> list[Path]:
        """Store the run's cases as baseline ``save_as``, one file per device identity."""
        by_identity: dict[DeviceIdentity, dict[str, dict[str, list[float]]]] = {}
        for case_id, results in cases:
            if results:
                by_identity.setdefault(DeviceIdentity.from_result(results[0]), {})[case_id] = metric_values(results)
        self.saved = [self.store.save(self.save_as, identity, cases) for identity, cases in by_identity.items()]
        return self.saved


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
