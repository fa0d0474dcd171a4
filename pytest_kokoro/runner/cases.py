"""The case runner: one case's timed rounds (alternating with the baseline arm in an A/B run), the rules each round
must keep, the regression gates with their re-check, and the budgets. Plain Python; the plugin turns its outcome and
exceptions into pytest's skip and fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pytest_kokoro.core.schema import exclusion_counts, gate_exclusions, gate_pairs
from pytest_kokoro.gates.keeper import GateKeeper, GateSetupError
from pytest_kokoro.gates.spec import check_budget, metric_values
from pytest_kokoro.runner.heat import CALIBRATION_HOT
from pytest_kokoro.runner.records import Case, CaseRecord
from pytest_kokoro.runner.session import CaseFailed, KokoroSession

# A first measurement: this run's rounds, the rules they broke, the A/B baseline arm's rounds.
Measured = tuple[list[dict[str, Any]], list[str], list[dict[str, Any]]]


class BudgetError(ValueError):
    """A kokoro_budget marker that cannot be checked (unknown metric, bad value)."""


@dataclass
class CaseOutcome:
    record: CaseRecord
    failures: list[str] = field(default_factory=list)  # empty: the case passed


class CaseRunner:
    def __init__(self, session: KokoroSession, keeper: GateKeeper, ab_baseline: KokoroSession | None = None,
                 cooldown: Callable[[KokoroSession, Case, int], None] | None = None, ab_first: str = "baseline"):
        self.session = session
        self.keeper = keeper
        self.ab_baseline = ab_baseline
        self.ab_first = ab_first  # "baseline" or "candidate": the arm that runs first in even rounds
        self.cooldown = cooldown  # called before every round (runner/order.py: Cooldown)

    def _one_round(self, session: KokoroSession, case: Case, round_index: int, nodeid: str,
                   order: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
        try:
            _, broken = session.run_round(case, round_index, nodeid, order)
        except CaseFailed as error:
            if session.arm:
                raise CaseFailed(f"{session.arm} {error}") from None
            raise
        prefix = f"{session.arm} " if session.arm else ""
        return session.records[nodeid].results[-1], [f"{prefix}round {round_index}: {p}" for p in broken]

    def measure(self, case: Case, nodeid: str, first_round: int, count: int | None = None,
                order: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], list[str], list[dict[str, Any]]]:
        """This run's rounds, the rules they broke, and (A/B) the baseline arm's rounds, alternating A B B A ...
        (the arm ``ab_first`` names runs first in even rounds, so its harness starts first)."""
        results, problems, baseline_results = [], [], []
        count = self.session.settings.rounds if count is None else count
        for round_index in range(first_round, first_round + count):
            arms = self._arms(round_index)
            for session in arms:
                if self.cooldown is not None:
                    self.cooldown(session, case, round_index)
                result, broken = self._one_round(session, case, round_index, nodeid, order)
                (baseline_results if session is self.ab_baseline else results).append(result)
                problems += broken
        return results, problems, baseline_results

    def _arms(self, round_index: int) -> list[KokoroSession]:
        if self.ab_baseline is None:
            return [self.session]
        lead, other = ((self.ab_baseline, self.session) if self.ab_first == "baseline"
                       else (self.session, self.ab_baseline))
        return [lead, other] if round_index % 2 == 0 else [other, lead]

    def _compare(self, case: Case, results: list[dict[str, Any]], baseline_results: list[dict[str, Any]]):
        """The gate's comparison, over the rounds fit to compare: a round the harness marked (a Debug build, a hot
        or Low Power Mode phone, the app in the background) or the plugin found hot (runner/heat.py), all named by
        core/schema.py gate_exclusions, stays in the results and is left out here; in A/B, with its pair."""
        rounds = [*results, *baseline_results]
        left_out, reasons = exclusion_counts(rounds)
        why = (f"{left_out} of {len(rounds)} rounds of {case.id} were left out of gates "
               f"({', '.join(f'{reason}: {count}' for reason, count in reasons.items())})")
        if any(reason == CALIBRATION_HOT or reason.startswith("thermal_state") for reason in reasons):
            why += "; let the device cool down before each round (--kokoro-cooldown nominal)"
        if CALIBRATION_HOT in reasons:
            why += ", or raise --kokoro-hot-factor on a busy machine"
        try:
            if self.ab_baseline is not None:
                pairs = gate_pairs(baseline_results, results)
                if not pairs:
                    raise GateSetupError("no pair of rounds is left to compare")
                return self.keeper.compare_interleaved([b for b, _ in pairs], [c for _, c in pairs])
            kept = [r for r in results if not gate_exclusions(r)]
            if not kept:
                raise GateSetupError("no round is left to compare")
            return self.keeper.compare(case.id, kept)
        except GateSetupError as error:
            if not left_out:
                raise
            raise GateSetupError(f"{error}: {why}") from None

    def run(self, case: Case, nodeid: str, budget: dict[str, Any] | None = None,
            first: Measured | None = None) -> CaseOutcome:
        """Measure ``case`` (or take its first measurement, made interleaved with other cases: runner/order.py);
        raises CaseUnavailable, CaseFailed (nothing usable measured), GateSetupError, BudgetError."""
        results, problems, baseline_results = first if first is not None else self.measure(case, nodeid, 0)
        record = self.session.records[nodeid]
        record.first_rounds = len(record.results)
        failures = [f"{case.id} broke the result rules:", *problems] if problems else []
        if self.keeper.gating and not problems:
            first = self._compare(case, results, baseline_results)
            recheck = None
            if self.keeper.needs_recheck(first):
                # Measured again before judging: a regression counts only when both measurements show it.
                results, problems, baseline_results = self.measure(case, nodeid, len(record.results))
                if problems:
                    failures += [f"{case.id} broke the result rules on its second measurement:", *problems]
                recheck = None if problems else self._compare(case, results, baseline_results)
            if recheck is not None or not self.keeper.needs_recheck(first):
                failures += [f"{case.id}: {j.message}" for j in self.keeper.decide(case.id, first, recheck)
                             if j.is_regression]
        if budget is not None:
            try:
                failures += [f"{case.id}: {m}" for m in check_budget(metric_values(results), budget)]
            except ValueError as error:
                raise BudgetError(str(error)) from None
        record.passed = not failures
        return CaseOutcome(record, failures)


def baseline_cases(records: Iterable[CaseRecord]) -> tuple[list[tuple[str, list[dict[str, Any]]]], list[str]]:
    """What ``--kokoro-save-baseline`` may store: each case's first measurement (never a re-check's rounds, never a
    round left out of gates), and the ids of the cases that did not pass (if any, nothing is stored)."""
    records = list(records)
    failed = [r.case.id for r in records if not r.passed]
    return [(r.case.id, [x for x in r.results[:r.first_rounds] if not gate_exclusions(x)]) for r in records], failed
