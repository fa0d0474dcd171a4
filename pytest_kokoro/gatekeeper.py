"""Regression gates for a run: compare each case with a stored baseline, remember cases for a new one.

The statistics are in gates.py, the storage in baselines.py; this joins them to the results of a run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .baselines import BaselineError, BaselineStore, DeviceIdentity
from .gates import GateSpec, Verdict, compare, metric_values


class GateSetupError(Exception):
    """The baseline cannot be used for this run; the message says why and what to do."""


class GateKeeper:
    def __init__(self, store: BaselineStore, spec: GateSpec, baseline: str | None, save_as: str | None):
        self.store = store
        self.spec = spec
        self.baseline_ref = baseline
        self.save_as = save_as
        self._baselines: dict[DeviceIdentity, Any] = {}
        self.verdicts: dict[str, list[Verdict]] = {}

    @property
    def gating(self) -> bool:
        return self.baseline_ref is not None

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

    def judge(self, case_id: str, results: Sequence[Mapping[str, Any]]) -> list[Verdict]:
        """Verdicts for each gated metric of one case; raises GateSetupError when there is nothing to compare with."""
        baseline = self._baseline_for(DeviceIdentity.from_result(results[0]))
        if case_id not in baseline.cases:
            raise GateSetupError(f"baseline {baseline.name!r} ({baseline.path}) has no case {case_id}; "
                                 f"it has: {', '.join(sorted(baseline.cases)) or 'none'}. Save a baseline that "
                                 "includes it with --kokoro-save-baseline")
        candidate = metric_values(results)
        verdicts = [compare(metric, baseline.cases[case_id].get(metric, []), candidate[metric], threshold,
                            self.spec.alpha)
                    for metric, threshold in self.spec.thresholds.items()]
        self.verdicts[case_id] = verdicts
        return verdicts

    def save(self, cases: Iterable[tuple[str, Sequence[Mapping[str, Any]]]]) -> list[Path]:
        """Store the run's cases as baseline ``save_as``, one file per device identity."""
        by_identity: dict[DeviceIdentity, dict[str, dict[str, list[float]]]] = {}
        for case_id, results in cases:
            if results:
                by_identity.setdefault(DeviceIdentity.from_result(results[0]), {})[case_id] = metric_values(results)
        return [self.store.save(self.save_as, identity, cases) for identity, cases in by_identity.items()]
