"""Whether a round ran hot, so that it stays in the results and is left out of gates and baselines
(docs/results.md "Heat").

Two signals. The device's own thermal state where it has one (Apple's ProcessInfo.thermalState, through the Swift
harness): ``serious`` or ``critical`` before the round. And, on every device, the calibration workload the harness
times before each round's clock: a round whose workload took more than ``factor`` times the coolest one seen so far
on that harness session started on a hot (or otherwise busy) machine. The coolest is the lowest calibration time of
the session: every round's, before and after, and every ``conditions`` answer's, warm-up rounds included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_FACTOR = 2.0  # docs/results.md "Heat": 1.5 flags a quarter of the rounds of a busy shared VM
HOT_THERMAL_STATES = ("serious", "critical")
CALIBRATION_HOT = "calibration_hot"


def thermal_flag(thermal_state: str | None) -> str | None:
    """``thermal_state_before_serious`` / ``_critical``: the reason the Swift harness itself writes into
    ``excluded_from_gates``, spelled the same so a round is never counted twice."""
    return f"thermal_state_before_{thermal_state}" if thermal_state in HOT_THERMAL_STATES else None


@dataclass
class HeatRule:
    """One harness session's heat judge. ``factor`` 0 turns the calibration rule off."""

    factor: float = DEFAULT_FACTOR
    coolest: float | None = None  # the lowest calibration time seen in this session

    def observe(self, calibration_time: float | None) -> None:
        if isinstance(calibration_time, (int, float)) and calibration_time > 0:
            self.coolest = calibration_time if self.coolest is None else min(self.coolest, calibration_time)

    def calibration_hot(self, calibration_time: float | None) -> bool:
        """Whether ``calibration_time`` is above ``factor`` × the coolest seen (observe it first)."""
        return (self.factor > 0 and self.coolest is not None and isinstance(calibration_time, (int, float))
                and calibration_time > self.factor * self.coolest)

    def flags(self, result: dict[str, Any]) -> list[str]:
        """Why a finished round ran hot, [] when it did not; its calibration times join the session's record."""
        before = result.get("calibration_time")
        self.observe(before)
        flags = [flag for flag in (thermal_flag(result.get("thermal_state_before")),) if flag]
        if self.calibration_hot(before):
            flags.append(CALIBRATION_HOT)
        self.observe(result.get("calibration_time_after"))  # measured after this round: a reference for the next
        return flags

    def nominal(self, conditions: dict[str, Any]) -> bool:
        """Whether the device is cool enough to start a round, from a ``conditions`` answer: thermal state
        nominal or fair where it has one, and the calibration workload not hot."""
        self.observe(conditions.get("calibration_time"))
        return (thermal_flag(conditions.get("thermal_state")) is None
                and not self.calibration_hot(conditions.get("calibration_time")))

    def describe(self, conditions: dict[str, Any]) -> str:
        """A ``conditions`` answer in words, for the cooldown's progress lines."""
        parts = []
        if conditions.get("thermal_state") is not None:
            parts.append(f"thermal state {conditions['thermal_state']}")
        if conditions.get("cpu_temperature_c") is not None:
            parts.append(f"CPU {conditions['cpu_temperature_c']:.1f} °C")
        if conditions.get("cpu_frequency_mhz") is not None:
            parts.append(f"{conditions['cpu_frequency_mhz']:.0f} MHz")
        calibration = conditions.get("calibration_time")
        if isinstance(calibration, (int, float)):
            shown = f"calibration {calibration * 1000:.1f} ms"
            if self.coolest:
                shown += f" ({calibration / self.coolest:.2f}× the coolest; hot above {self.factor:g}×)"
            parts.append(shown)
        return ", ".join(parts) or "nothing readable"
