"""Regression gates for a run: compare each case with a stored baseline, remember cases for a new one.

The statistics are in gates.py, the storage in baselines.py; this joins them to the results of a run.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_kokoro.gates.baselines import BaselineError, BaselineStore, DeviceIdentity
from pytest_kokoro.gates.statistics import GateSpec, Verdict, calibrated, compare, compare_paired, metric_values


@dataclass(frozen=True)
class Judgement:
    """A verdict on one metric of one case, with the message a user reads."""

    verdict: Verdict
    message: str

    @property
    def is_regression(self) -> bool:
        return self.verdict.is_regression


class GateSetupError(Exception):
    """The baseline cannot be used for this run; the message says why and what to do."""


class GateKeeper:
    def __init__(self, store: BaselineStore, spec: GateSpec, baseline: str | None, save_as: str | None):
        self.store = store
        self.spec = spec
        self.baseline_ref = baseline
        self.save_as = save_as
        self._baselines: dict[DeviceIdentity, Any] = {}
        self.judgements: dict[str, list[Judgement]] = {}
        self.saved: list[Path] = []

    @property
    def gating(self) -> bool:
        return self.baseline_ref is not None

    def judge_interleaved(self, case_id: str, baseline_results: Sequence[Mapping[str, Any]],
                          candidate_results: Sequence[Mapping[str, Any]]) -> list[Judgement]:
        """A judgement per gated metric, against baseline rounds interleaved with these in the same run: round i of
        each arm ran back to back, so they are compared in pairs (signed-rank test on the per-pair ratios), which
        cancels the machine's drift and load swings; no calibration is needed."""
        base, candidate = metric_values(baseline_results), metric_values(candidate_results)
        judgements = []
        for metric, threshold in self.spec.thresholds.items():
            verdict = compare_paired(metric, base[metric], candidate[metric], threshold, self.spec.alpha)
            judgements.append(Judgement(verdict, f"{verdict.message()} (A/B, rounds interleaved in this run)"))
        self.judgements[case_id] = judgements
        return judgements

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

    def judge(self, case_id: str, results: Sequence[Mapping[str, Any]]) -> list[Judgement]:
        """A judgement per gated metric of one case; raises GateSetupError when there is nothing to compare with.

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
        judgements = []
        for metric, threshold in self.spec.thresholds.items():
            base_calibrated, candidate_calibrated = calibrated(base, metric), calibrated(candidate, metric)
            if base_calibrated is not None and candidate_calibrated is not None:
                verdict = compare(f"{metric}/calibration", base_calibrated, candidate_calibrated, threshold,
                                  self.spec.alpha)
                raw = (f"; raw medians {_median(candidate[metric]):.3g} vs {_median(base[metric]):.3g}, "
                       f"calibration {_median(candidate['calibration']) * 1000:.1f} vs "
                       f"{_median(base['calibration']) * 1000:.1f} ms")
            else:
                verdict = compare(metric, base.get(metric, []), candidate[metric], threshold, self.spec.alpha)
                raw = ""
            judgements.append(Judgement(verdict, verdict.message() + raw))
        self.judgements[case_id] = judgements
        return judgements

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
