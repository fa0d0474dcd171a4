"""One benchmark run: a device's harness, started once and replaced after a fault, and what it measured."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pytest_kokoro.core.metrics import invariant_problems
from pytest_kokoro.core.schema import ResultsFileError, validate_result
from pytest_kokoro.devices.base import Device, DeviceError
from pytest_kokoro.devices.client import HarnessClient, HarnessError, HarnessFault, RunOutcome
from pytest_kokoro.quality.assess import assess_round
from pytest_kokoro.quality.intelligibility import IntelligibilityScorer, ScorerUnavailable
from pytest_kokoro.runner.heat import HeatRule
from pytest_kokoro.runner.records import Case, CaseRecord, RunLog, Settings
from pytest_kokoro.runner.results import ResultsWriter

# Error codes that mean "this case cannot run here" (skip, with the harness's instructions), not "broken".
UNAVAILABLE_CODES = frozenset({"missing_file"})


class CaseUnavailable(Exception):
    """The variant or voice of a case is not available on this device; the message says which file to provide."""


class CaseFailed(Exception):
    """A case could not be measured, or its measurement broke a rule; the message says which and why."""


class Progress:
    """A long round says how it goes, at most every ``every`` seconds of host time (a 10,000-character text runs
    for minutes): which case and round, how many chunks are done, how long it has run. Never a measurement."""

    def __init__(self, say: Callable[[str], None], every: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.say, self.every, self.clock = say, every, clock
        self.label, self.started, self.last = "", 0.0, 0.0

    def start(self, label: str) -> None:
        self.label, self.started = label, self.clock()
        self.last = self.started

    def chunk(self, event: dict[str, Any]) -> None:
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            self.say(f"kokoro: {self.label}: {event['index'] + 1} chunk(s) done, {now - self.started:.0f} s in")


class KokoroSession:
    def __init__(self, settings: Settings, make_device: Callable[[], Device], writer: ResultsWriter,
                 arm: str | None = None, log: RunLog | None = None):
        self.settings = settings
        self.arm = arm  # "baseline" / "candidate" in an interleaved A/B run, else None
        self.log = log if log is not None else RunLog()
        self.progress: Progress | None = None  # set by the plugin where a terminal can show it
        self._make_device = make_device
        self.writer = writer
        self.device: Device | None = None
        self.client: HarnessClient | None = None
        self.records: dict[str, CaseRecord] = {}
        self.faults: list[str] = []
        self.hello: dict[str, Any] = {}
        self._loaded_variant: str | None = None
        self._scorer: IntelligibilityScorer | None = None
        self._device_refused: str | None = None  # the device itself could not be used: said once, not retried
        self.heat = HeatRule(settings.hot_factor)  # which rounds ran hot (runner/heat.py), per harness session

    def harness(self) -> HarnessClient:
        if self._device_refused is not None:
            raise CaseFailed(f"the {self.settings.device_label} harness could not start in an earlier case of this "
                             f"run, and is not tried again: {self._device_refused.splitlines()[0]}")
        if self.client is None:
            try:
                self.device = self._make_device()
                self.client = self.device.start(self.settings.timeout)
            except DeviceError as error:
                self._discard()
                self._device_refused = str(error)
                raise CaseFailed(f"cannot start the {self.settings.device_label} harness: {error}") from error
            except (HarnessFault, HarnessError) as error:
                self._discard()
                raise CaseFailed(f"cannot start the {self.settings.device_label} harness: {error}") from error
            self.hello = self.client.hello
        return self.client

    def _discard(self) -> None:
        client, device = self.client, self.device
        self.client = self.device = None
        self._loaded_variant = None
        if client is not None:
            client.link.close()
        if device is not None:
            device.stop()

    def run_round(self, case: Case, round_index: int, nodeid: str,
                  order: dict[str, Any] | None = None) -> tuple[RunOutcome, list[str]]:
        """Run one timed round and keep its result on disk; returns it with the rules it broke (maybe none).
        ``order``: where the round stood in the run's order (docs/results.md, "Order keys")."""
        previous = self.log.last
        client = self.harness()
        try:
            self._switch_variant(client, case.variant)
            if self.progress is not None:
                self.progress.start(f"{case.id} round {round_index}{f' ({self.arm})' if self.arm else ''}")
            outcome = client.run(text=case.text, voice=case.voice, variant=case.variant, speed=self.settings.speed,
                                 warmup=self.settings.warmup, send_audio=True, round_index=round_index,
                                 split=case.split, on_chunk=self.progress.chunk if self.progress else None)
        except HarnessFault as error:
            self.replace_harness(f"{case.id} round {round_index}: {error}")  # a fresh one serves the remaining tests
            raise CaseFailed(f"{case.id} round {round_index}: {error}; a fresh harness takes the next test") from error
        except HarnessError as error:
            if error.fatal:
                self._discard()
            if error.code in UNAVAILABLE_CODES:
                raise CaseUnavailable(f"{case.id}: {error.message}") from error
            raise CaseFailed(f"{case.id}: the harness refused the run: [{error.code}] {error.message}") from error
        result = {**outcome.result, "device": self.settings.device_label, "case": case.id,
                  "host_wall_time": outcome.host_wall_time}
        if self.arm is not None:
            result["arm"] = self.arm
        result.update({"order": "grouped", "order_position": 0, **(order or {}), "previous_round": previous})
        # Hot rounds stay in the results and are left out of gates and baselines (core/schema.py gate_exclusions).
        result["heat_flags"] = self.heat.flags(result)
        self.log.last = f"{case.id}{f' ({self.arm})' if self.arm else ''} round {round_index}"
        problems = self.check(result, outcome, case)
        problems += self.check_quality(result, outcome)  # the round stays in the results with its reasons
        # Kept in the file, so a report can mark the round and leave it out of medians (docs/results.md).
        result["broken_rules"] = list(problems)
        self.writer.add(result, outcome.audio)
        self.records.setdefault(nodeid, CaseRecord(case, nodeid)).results.append(result)
        return outcome, problems

    def conditions(self) -> dict[str, Any]:
        """The device's heat now (the harness's ``conditions`` answer), seen by this session's heat rule too;
        CaseFailed when the harness cannot answer (the message says how to fix it)."""
        client = self.harness()
        try:
            return client.conditions()
        except HarnessFault as error:
            self.replace_harness(f"conditions: {error}")
            raise CaseFailed(f"asking the {self.settings.device_label} harness for its conditions: {error}") from error
        except HarnessError as error:
            raise CaseFailed(f"the {self.settings.device_label} harness cannot report its conditions: "
                             f"{error.message}") from error

    def run_unrecorded(self, text: str, voice: str, variant: str, *, timeout: float | None = None) -> RunOutcome:
        """One run that is no benchmark round (fuzzing): no warm-up, audio sent, nothing written or recorded.

        Raises HarnessError as the harness answered, or HarnessFault after discarding the harness (recorded in
        ``faults``), so that the next call starts a fresh one.
        """
        client = self.harness()
        try:
            self._switch_variant(client, variant)
            return client.run(text=text, voice=voice, variant=variant, speed=self.settings.speed, warmup=False,
                              send_audio=True, timeout=timeout)
        except HarnessFault as error:
            self.replace_harness(f"unrecorded run of {text[:60]!r}: {error}")
            raise
        except HarnessError as error:
            if error.fatal:
                self._discard()
            raise

    def replace_harness(self, fault: str) -> None:
        """Record a harness fault and discard the harness; the next ``harness()`` starts a fresh one."""
        self.faults.append(fault)
        self._discard()

    def _switch_variant(self, client: HarnessClient, variant: str) -> None:
        """One variant in memory at a time, as the reference's run-all does: release the last before the next. A
        variant the harness does not have (its hello lists what it has) is refused by the run itself: the loaded one
        stays, so an unavailable case interleaved between two others costs them no reload."""
        offered = client.hello.get("variants")
        if isinstance(offered, list) and variant not in offered:
            return
        if self._loaded_variant not in (None, variant):
            client.unload(self._loaded_variant)
        self._loaded_variant = variant

    @staticmethod
    def check(result: dict[str, Any], outcome: RunOutcome, case: Case) -> list[str]:
        """Field parity with kokoro_benchmark.py, the invariants, and the never-bad-audio guards."""
        try:
            validate_result(result, harness=True)
        except ResultsFileError as error:
            return [str(error)]
        problems = invariant_problems(result, outcome.chunk_times, outcome.chunk_samples)
        if outcome.audio is not None:
            if outcome.audio.size != result["samples"]:
                problems.append(f"{outcome.audio.size} audio samples received, the result says {result['samples']}")
        return problems

    def check_quality(self, result: dict[str, Any], outcome: RunOutcome) -> list[str]:
        """The audio's named quality checks (pytest_kokoro/quality), on the host after the clock: adds the
        ``quality_*`` keys to ``result`` and returns the failures as problems."""
        if outcome.audio is None:
            return []
        problems = []
        if self.settings.quality == "full" and self._scorer is None and not result["simulated"]:
            try:
                self._scorer = IntelligibilityScorer()
            except ScorerUnavailable as error:
                problems.append(str(error))  # the round is still checked without it, and kept
        quality = assess_round(outcome.audio, chunk_texts=[c["text"] for c in outcome.chunks],
                               chunk_samples=outcome.chunk_samples, voice=result["voice"], speed=result["speed"],
                               sample_rate=result["sample_rate"], level=self.settings.quality, scorer=self._scorer,
                               simulated=result["simulated"])
        result.update(quality.keys)
        return problems + quality.problems

    def abort(self) -> None:
        """Stop the harness now, without waiting for the round it is in (Ctrl-C, SIGTERM): every finished round is
        already in the results file."""
        device = self.device
        if device is not None:
            getattr(device, "abort", device.stop)()
        self._discard()

    def close(self) -> None:
        client = self.client
        if client is not None:
            client.shutdown()
        self._discard()
