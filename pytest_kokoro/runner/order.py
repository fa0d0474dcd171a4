"""The order rounds run in, so that neither run order nor heat decides a comparison.

``interleaved`` (the default when a run compares several variants or engines of one voice × text): the cases of
such a group take their rounds round-robin, the order reversing every round (A B C D, D C B A, A B C D, ...), so
heat that builds up over a run is shared out instead of charged to whichever variant came last. A device that holds
one variant at a time reloads between them (the load is timed on its own, as always). ``grouped``: all rounds of a
case, then the next case (how the run was before).

Every round records its place: ``order``, ``order_position`` (its index within its round of the group) and
``previous_round`` (what ran just before it in this run, any case or arm). A cooldown, when asked for, is a wait
before every round, shown while it lasts: a fixed one, or one until the device reports nominal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_kokoro.core.options import CooldownSpec
from pytest_kokoro.runner.cases import CaseRunner, Measured
from pytest_kokoro.runner.records import Case
from pytest_kokoro.runner.session import CaseFailed, CaseUnavailable, KokoroSession

ORDERS = ("interleaved", "grouped")


def group_key(case: Case) -> tuple[str, str, str, str]:
    """Cases that are compared with each other: the same voice, text and split; variants and engines differ."""
    return (case.voice, case.text_id, case.text, case.split)


def sequence(items: list[Any], round_index: int) -> list[Any]:
    """A B C D in even rounds, D C B A in odd ones: each position's average rank is the same for every item."""
    return list(items) if round_index % 2 == 0 else list(reversed(items))


@dataclass
class Cooldown:
    """A wait before every round; ``say`` shows it (on the terminal, not in a captured test output)."""

    seconds: float
    say: Callable[[str], None] = print
    sleep: Callable[[float], None] = time.sleep
    step: float = 5.0

    def __call__(self, session: KokoroSession, case: Case, round_index: int) -> None:
        if self.seconds <= 0:
            return
        self.say(f"kokoro: cooling down {self.seconds:g} s before {case.id} round {round_index}")
        left = self.seconds
        while left > 0:
            wait = min(self.step, left)
            self.sleep(wait)
            left -= wait
            if left > 0:
                self.say(f"kokoro: cooling down, {left:g} s left")


@dataclass
class NominalCooldown:
    """Before every round, wait until the device reports nominal (runner/heat.py: HeatRule.nominal, from the
    harness's ``conditions`` answer), asking every ``poll`` seconds and saying how it stands at least every
    ``every`` seconds; after ``max_seconds`` go on and say so (the round is then flagged if it runs hot)."""

    max_seconds: float
    say: Callable[[str], None] = print
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    poll: float = 5.0
    every: float = 20.0

    def __call__(self, session: KokoroSession, case: Case, round_index: int) -> None:
        label = f"{case.id} round {round_index}{f' ({session.arm})' if session.arm else ''}"
        started = self.clock()
        conditions = session.conditions()
        if session.heat.nominal(conditions):
            return
        self.say(f"kokoro: waiting for {session.settings.device_label} to cool down before {label} "
                 f"(at most {self.max_seconds:g} s): {session.heat.describe(conditions)}")
        last_said = started
        while True:
            waited = self.clock() - started
            if waited >= self.max_seconds:
                self.say(f"kokoro: {session.settings.device_label} is still not nominal after {waited:.0f} s "
                         f"({session.heat.describe(conditions)}); going on with {label}, which is left out of gates "
                         "if it runs hot (raise the bound with --kokoro-cooldown nominal:SECONDS)")
                return
            self.sleep(min(self.poll, self.max_seconds - waited))
            conditions = session.conditions()
            now = self.clock()
            if session.heat.nominal(conditions):
                self.say(f"kokoro: {session.settings.device_label} is nominal after {now - started:.0f} s "
                         f"({session.heat.describe(conditions)}); starting {label}")
                return
            if now - last_said >= self.every:
                last_said = now
                self.say(f"kokoro: still cooling down, {now - started:.0f} s: {session.heat.describe(conditions)}")


def make_cooldown(spec: CooldownSpec, say: Callable[[str], None] | None = None):
    """The cooldown ``--kokoro-cooldown`` asks for, None for none."""
    if not spec:
        return None
    kwargs = {"say": say} if say is not None else {}
    return NominalCooldown(spec.seconds, **kwargs) if spec.until_nominal else Cooldown(spec.seconds, **kwargs)


@dataclass
class InterleavedGroups:
    """First measurements of grouped cases, made together on the first test of a group and handed to each case's
    test when it runs. ``units``: nodeid -> (case, runner) for every collected case; built lazily per group."""

    rounds: int
    groups: dict[tuple[str, str, str, str], list[str]] = field(default_factory=dict)  # key -> nodeids, in order
    measured: dict[str, Measured | BaseException] = field(default_factory=dict)

    def add(self, case: Case, nodeid: str) -> None:
        self.groups.setdefault(group_key(case), []).append(nodeid)

    def compares(self) -> bool:
        """Whether any group holds several cases (otherwise interleaving changes nothing)."""
        return any(len(nodeids) > 1 for nodeids in self.groups.values())

    def first_measurement(self, case: Case, nodeid: str,
                          runner_for: Callable[[str], tuple[Case, CaseRunner]]) -> Measured:
        """``nodeid``'s first measurement, measuring its whole group interleaved the first time one is asked for;
        re-raises the CaseFailed or CaseUnavailable its own rounds met."""
        if nodeid not in self.measured:
            nodeids = self.groups.get(group_key(case), [nodeid])
            if nodeid not in nodeids:
                nodeids = [nodeid]
            self._measure([runner_for(n) + (n,) for n in nodeids])
        found = self.measured.pop(nodeid)
        if isinstance(found, BaseException):
            raise found
        return found

    def _measure(self, units: list[tuple[Case, CaseRunner, str]]) -> None:
        collected: dict[str, list] = {nodeid: [[], [], []] for _, _, nodeid in units}
        for round_index in range(self.rounds):
            for position, (case, runner, nodeid) in enumerate(sequence(units, round_index)):
                if isinstance(self.measured.get(nodeid), BaseException):
                    continue  # this case already failed; the others go on
                try:
                    results, problems, baseline = runner.measure(
                        case, nodeid, round_index, 1, {"order": "interleaved", "order_position": position})
                except (CaseFailed, CaseUnavailable) as error:
                    self.measured[nodeid] = error
                    continue
                for kept, new in zip(collected[nodeid], (results, problems, baseline)):
                    kept.extend(new)
        for nodeid, (results, problems, baseline) in collected.items():
            if not isinstance(self.measured.get(nodeid), BaseException):
                self.measured[nodeid] = (results, problems, baseline)
