"""A run's kokoro state, built from the options at configure time (cheap: no import of numpy, pydantic or a
device) and started only when a kokoro case asks for it. A project that has pytest-kokoro installed but runs no
kokoro case gets no harness, no folder and no pytest-benchmark machine_info key from it.

The device is looked up by kind (devices/registry.py); nothing here knows a device by name. The jobs at the end of
a run (Holm's later steps, the baseline, the pytest-xdist hand-over and merge, the HTML report) are methods of their
own, each called by one line of a hook.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from pytest_kokoro.devices.base import DeviceKind, DeviceSpec, WorkerSetupError
from pytest_kokoro.devices.registry import kind as device_kind
from pytest_kokoro.plugin.options import build_cases, device_settings, device_spec, engines, option, timeout
from pytest_kokoro.runner.records import Case, RunLog, Settings

# --kokoro-ab-baseline=same: the A/A check (docs/gates.md).
AA_CHECK = "same"


class KokoroRun:
    def __init__(self, config: pytest.Config):
        from pytest_kokoro.benchmark.xdist import worker_count, worker_id, worker_number

        self.config = config
        self.requested: DeviceSpec = device_spec(config)
        self.kind: DeviceKind = device_kind(self.requested.kind)
        self.device = self.requested
        self.refused: str | None = None  # why this worker must not start a harness
        self.worker_id = worker_id(config)
        self.workers = worker_count(config)
        if self.worker_id is not None and self.workers > 1:
            try:
                self.device = self.kind.for_worker(self.requested, worker_number(self.worker_id), self.workers)
            except WorkerSetupError as error:
                self.refused = str(error)
        self.device_settings = device_settings(config, self.kind)
        self.results_dir = self.device_settings.results_dir
        self.engines = engines(config, self.kind)  # --kokoro-engine; the first one is the main session's
        self.cases: list[Case] = build_cases(config, self.kind, self.device_settings, self.engines)
        self.settings = Settings(device_label=self.label(self.engines[0]), rounds=option(config, "kokoro_rounds"),
                                 warmup=bool(option(config, "kokoro_warmup")),
                                 timeout=timeout(config, self.kind, self.engines),
                                 quality=option(config, "kokoro_quality"),
                                 hot_factor=option(config, "kokoro_hot_factor"))
        self.ab_command: str | None = option(config, "kokoro_ab_baseline")
        self._session: Any = None
        self.baseline_refused: str | None = None  # why --kokoro-save-baseline saved nothing
        self.step_down: list[tuple[str, Any]] = []  # cases failed by Holm's later steps at the end of the run
        self.report_line: str | None = None
        self.skipped: list[tuple[str, str]] = []  # (case or tests, why), said in the summary without -rs
        self.cases_by_nodeid: dict[str, Case] = {}
        self.interleaved: Any = None  # runner.order.InterleavedGroups when rounds are interleaved
        self.order_note: str | None = None
        self.log = RunLog()

    def label(self, engine: str | None) -> str:
        """The device's label; with several engines in the run, the engine's name beside it."""
        return f"{self.device.label} ({engine})" if len(self.engines) > 1 else self.device.label

    @property
    def started(self) -> bool:
        return self._session is not None

    def _open(self, engine: str | None):
        device_run = self.kind.open(self.device, self.device_settings, engine)
        self.config.add_cleanup(device_run.close)
        return device_run

    @functools.cached_property
    def factory(self):
        """The main engine's device run: makes the harness, holds the kind's notes and facts."""
        return self._open(self.engines[0])

    @functools.cached_property
    def writer(self):
        from pytest_kokoro.benchmark.xdist import results_location
        from pytest_kokoro.runner.results import ResultsWriter, results_file_name

        return ResultsWriter(*results_location(self.config, self.results_dir, results_file_name()),
                             write_wavs=bool(option(self.config, "kokoro_wav")))

    @property
    def session(self):
        """The candidate's harness session, made on first use."""
        if self._session is None:
            from pytest_kokoro.runner.session import KokoroSession

            self._session = KokoroSession(self.settings, self.factory, self.writer,
                                          arm="candidate" if self.ab_command else None, log=self.log)
        return self._session

    @functools.cached_property
    def engine_sessions(self) -> dict[str, Any]:
        """One harness session per further engine of --kokoro-engine (each its own harness process)."""
        from pytest_kokoro.runner.session import KokoroSession

        sessions = {}
        for engine in self.engines[1:]:
            settings = Settings(**{**self.settings.__dict__, "device_label": self.label(engine)})
            sessions[engine] = KokoroSession(settings, self._open(engine), self.writer, log=self.log)
        return sessions

    def session_for(self, case: Case):
        return self.engine_sessions[case.engine] if case.engine in self.engine_sessions else self.session

    def all_sessions(self) -> list[Any]:
        return [self.session, *self.engine_sessions.values()]

    def summary_sessions(self) -> list[Any]:
        """Every session that measured something, the A/B baseline arm last."""
        ab = [self.ab_baseline] if self.ab_baseline is not None else []
        return [s for s in [*self.all_sessions(), *ab] if s.records]

    @functools.cached_property
    def ab_baseline(self):
        """The baseline arm of an A/B run (--kokoro-ab-baseline), else None."""
        if not self.ab_command:
            return None
        from pytest_kokoro.devices.registry import baseline_factory
        from pytest_kokoro.runner.session import KokoroSession

        settings = Settings(**{**self.settings.__dict__, "device_label": f"{self.device.label} A/B baseline"})
        if self.ab_command == AA_CHECK:  # the A/A check: a second harness of the very same device and engine
            make = self._open(self.engines[0])
        else:
            make = baseline_factory(self.ab_command, self.device_settings, settings.device_label)
        return KokoroSession(settings, make, self.writer, arm="baseline", log=self.log)

    @functools.cached_property
    def keeper(self):
        from pytest_kokoro.gates.baselines import BaselineStore
        from pytest_kokoro.gates.keeper import GateKeeper
        from pytest_kokoro.gates.spec import GateSpec

        return GateKeeper(BaselineStore(Path(option(self.config, "kokoro_baselines_dir"))),
                          option(self.config, "kokoro_gate") or GateSpec(),
                          option(self.config, "kokoro_baseline"), option(self.config, "kokoro_save_baseline"),
                          paired=bool(self.ab_command))

    def machine_info(self) -> dict[str, Any]:
        """What this run adds to pytest-benchmark's machine_info: the harness's facts and the kind's own."""
        from pytest_kokoro.runner.results import device_facts

        return {"kokoro_device": device_facts(self.settings.device_label, self.session.hello),
                **self.kind.machine_info(self.factory.facts, self.writer.results)}

    # -- the order of rounds -------------------------------------------------------------------------------------
    def plan_order(self, items: list[tuple[str, Case]]) -> None:
        """The collected cases are known: interleave the rounds of compared cases (runner/order.py) unless
        --kokoro-order=grouped, or a pytest-xdist worker (its share of the cases is not known in advance)."""
        from pytest_kokoro.runner.order import InterleavedGroups

        self.cases_by_nodeid = dict(items)
        groups = InterleavedGroups(self.settings.rounds)
        for nodeid, case in items:
            groups.add(case, nodeid)
        chosen = option(self.config, "kokoro_order")
        if chosen == "grouped" or not groups.compares():
            return
        if self.worker_id is not None:
            self.order_note = ("rounds run grouped, case by case: under pytest-xdist a worker does not know its share "
                               "of the cases in advance")
            return
        self.interleaved = groups

    def case_runner(self, case: Case, say=None):
        from pytest_kokoro.runner.cases import CaseRunner
        from pytest_kokoro.runner.order import make_cooldown

        cooldown = make_cooldown(option(self.config, "kokoro_cooldown"), say)
        return CaseRunner(self.session_for(case), self.keeper, self.ab_baseline, cooldown,
                          option(self.config, "kokoro_ab_first"))

    def first_measurement(self, case: Case, nodeid: str, say=None):
        """The case's first measurement when its rounds are interleaved with others', else None (measured alone)."""
        if self.interleaved is None:
            return None
        return self.interleaved.first_measurement(
            case, nodeid, lambda other: (self.cases_by_nodeid[other], self.case_runner(self.cases_by_nodeid[other], say)))

    # -- before anything runs --------------------------------------------------------------------------------------
    def preflight(self, cases: int) -> list[str]:
        """Everything that would stop the run later, found now that the cases are known and before any round:
        folders that cannot be written, a missing install, a baseline that is not there or broken, a gate that
        could never fail with these rounds. Each problem names the option or the fix."""
        report = option(self.config, "kokoro_report")
        found = [_writable_folder(self.results_dir, "--kokoro-results-dir"),
                 _writable_folder(Path(report).parent, "--kokoro-report") if report else None,
                 *(self.kind.preflight(self.device_settings, engine) for engine in dict.fromkeys(self.engines))]
        problems = [problem for problem in found if problem]
        if problems:
            return list(dict.fromkeys(problems))
        baseline = option(self.config, "kokoro_baseline")
        if baseline:
            from pytest_kokoro.gates.baselines import BaselineError

            try:
                self.keeper.store.check(baseline)
            except BaselineError as error:
                problems.append(f"--kokoro-baseline {baseline}: {error}")
        if self.ab_command or baseline:
            self.keeper.set_family(cases)
            problem = self.keeper.rounds_problem(self.settings.rounds)
            if problem:
                problems.append(problem)
        return problems

    # -- the end of the run ----------------------------------------------------------------------------------------
    def finish(self, session: pytest.Session) -> None:
        """The session's last jobs, in order: gates, baseline, the xdist hand-over (a worker) or the report."""
        self.finish_gates(session)
        self.save_baseline()
        if hasattr(self.config, "workeroutput"):
            self.hand_over()
        elif self.session.records:
            self.write_report(session, self.writer.path)

    def finish_gates(self, session: pytest.Session) -> None:
        """Holm's later steps: only possible after a first-step rejection, which already failed a case."""
        if not self.keeper.gating:
            return
        self.step_down = self.keeper.step_down()
        if self.step_down and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def save_baseline(self) -> None:
        if not self.keeper.save_as:
            return
        from pytest_kokoro.runner.cases import baseline_cases

        cases, failed = baseline_cases(self.session.records.values())
        if failed:
            self.baseline_refused = (f"baseline {self.keeper.save_as!r} NOT saved: {', '.join(failed)} did not pass; "
                                     "a baseline is saved only from a run in which every case passed its rules")
        else:
            self.keeper.save(cases)

    def hand_over(self) -> None:
        """A pytest-xdist worker's records, hello and device facts, for the controller to merge."""
        from pytest_kokoro.benchmark.xdist import WORKER_OUTPUT_KEY, worker_payload

        self.config.workeroutput[WORKER_OUTPUT_KEY] = worker_payload(self.session, self.kind.name, self.factory.facts)

    def write_report(self, session: pytest.Session, results_path) -> None:
        """--kokoro-report PATH: the HTML report of this run's results file; a failure fails the run."""
        target = option(self.config, "kokoro_report")
        if not target or results_path is None:
            return
        try:
            from pytest_kokoro.report.html import write_report
        except ImportError as error:
            self.report_line = (f"report not written: {error.name} is not installed; "
                                "pip install 'pytest-kokoro[report]'")
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            return
        from pytest_kokoro.report.rounds import ReportInputError

        try:
            Path(target).parent.mkdir(parents=True, exist_ok=True)  # checked writable before the run
            self.report_line = f"report: {write_report([results_path], target)}"
        except ReportInputError as error:
            self.report_line = f"report not written: {error}"
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        except OSError as error:  # the folder became read-only or full after the preflight
            self.report_line = (f"report not written: --kokoro-report {target}: {error.strerror or error}; the results "
                                f"are safe in {results_path}: python -m pytest_kokoro.report {results_path} -o PATH")
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def abort(self) -> None:
        """Ctrl-C or SIGTERM: every harness of the run stops now."""
        sessions = [self._session, *self.__dict__.get("engine_sessions", {}).values(),
                    self.__dict__.get("ab_baseline")]
        for session in sessions:
            if session is not None:
                session.abort()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        for session in self.__dict__.get("engine_sessions", {}).values():
            session.close()
        if "ab_baseline" in self.__dict__ and self.ab_baseline is not None:
            self.ab_baseline.close()


def _writable_folder(folder: Path, flag: str) -> str | None:
    """None when a file can be written in ``folder``, or in the nearest folder above it that exists (the run makes
    the rest when it first writes); else what is wrong. Makes nothing: a run stopped before it measured anything
    leaves no folder behind."""
    existing = Path(folder)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(20, "Not a directory")
        if existing.resolve() != Path(folder).resolve() and not os.access(existing, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
        with tempfile.TemporaryFile(dir=existing):
            pass
        if existing.resolve() != Path(folder).resolve():
            _try_to_make(Path(folder))
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return (f"{flag}: cannot write in {str(folder) or '.'} ({reason}); choose a folder you can write to, e.g. "
                f"{flag} /tmp/kokoro")
    return None


def _try_to_make(folder: Path) -> None:
    """Make ``folder`` and remove what was made: the parent being writable is not enough on every file system
    (sysfs refuses mkdir with EPERM). Raises OSError as mkdir does."""
    made = []
    for parent in reversed([folder, *folder.parents]):
        if not parent.exists():
            parent.mkdir()
            made.append(parent)
    with tempfile.TemporaryFile(dir=folder):
        pass
    for path in reversed(made):
        path.rmdir()
