"""A run's kokoro state, built from the options at configure time (cheap: no import of numpy, pydantic or a
device) and started only when a kokoro case asks for it. A project that has pytest-kokoro installed but runs no
kokoro case gets no harness, no folder and no pytest-benchmark machine_info key from it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from pytest_kokoro.devices.base import DeviceSettings, DeviceSpec, parse_device
from pytest_kokoro.plugin.options import build_cases, engines, models, option
from pytest_kokoro.runner.records import Case, Settings


class KokoroRun:
    def __init__(self, config: pytest.Config):
        from pytest_kokoro.benchmark.xdist import WorkerSetupError, worker_count, worker_device, worker_id

        self.config = config
        requested: DeviceSpec = option(config, "kokoro_device") or parse_device("host")
        self.requested = requested
        try:
            self.device = worker_device(config, requested)  # pytest-xdist: worker i drives the i-th phone
        except WorkerSetupError as error:
            raise pytest.UsageError(str(error)) from None
        self.worker_id = worker_id(config)
        self.workers = worker_count(config)
        self.models = models(config)
        self.engines = engines(config, self.device)  # --kokoro-engine; the first one is the main session's
        self.cases: list[Case] = build_cases(config, self.device, self.models, self.engines)
        warmup = option(config, "kokoro_warmup")
        self.settings = Settings(device_label=self.label(self.engines[0]), rounds=option(config, "kokoro_rounds"),
                                 warmup=True if warmup is None else bool(warmup),
                                 timeout=option(config, "kokoro_timeout"), quality=option(config, "kokoro_quality"))
        app = option(config, "kokoro_app")
        self.results_dir = Path(option(config, "kokoro_results_dir"))
        self.device_settings = DeviceSettings(self.results_dir, timeout=option(config, "kokoro_timeout"),
                                              models=self.models, voice_pack=option(config, "kokoro_voice_pack"),
                                              app=Path(app) if app else None, launch=option(config, "kokoro_launch"),
                                              port=option(config, "kokoro_port"))
        self.ab_command: str | None = option(config, "kokoro_ab_baseline")
        self._session: Any = None
        self.baseline_refused: str | None = None  # why --kokoro-save-baseline saved nothing

    def label(self, engine: str | None) -> str:
        """The device's label; with several engines in the run, the engine's name beside it."""
        return f"{self.device.label} ({engine})" if len(self.engines) > 1 else self.device.label

    def refusal(self) -> str | None:
        """Why this worker must not start a harness, or None."""
        if self.workers > 1 and self.device.kind != "iphone":
            return (f"{self.workers} pytest-xdist workers would start {self.workers} {self.device.kind} harnesses on "
                    "this machine's cores, and they would measure each other: run the kokoro benchmarks without -n "
                    "(pytest-xdist is for one worker per phone: --kokoro-device=iphone:UDID1,UDID2 -n 2)")
        return None

    @property
    def started(self) -> bool:
        return self._session is not None

    @functools.cached_property
    def factory(self):
        from pytest_kokoro.devices.registry import DeviceFactory

        factory = DeviceFactory(self.device, self.device_settings, self.engines[0])
        self.config.add_cleanup(factory.close)
        return factory

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
                                          arm="candidate" if self.ab_command else None)
        return self._session

    @functools.cached_property
    def engine_sessions(self) -> dict[str, Any]:
        """One harness session per further engine of --kokoro-engine (each its own harness process)."""
        from pytest_kokoro.devices.registry import DeviceFactory
        from pytest_kokoro.runner.session import KokoroSession

        sessions = {}
        for engine in self.engines[1:]:
            factory = DeviceFactory(self.device, self.device_settings, engine)
            self.config.add_cleanup(factory.close)
            settings = Settings(**{**self.settings.__dict__, "device_label": self.label(engine)})
            sessions[engine] = KokoroSession(settings, factory, self.writer)
        return sessions

    def session_for(self, case: Case):
        return self.engine_sessions[case.engine] if case.engine in self.engine_sessions else self.session

    def all_sessions(self) -> list[Any]:
        return [self.session, *self.engine_sessions.values()]

    @functools.cached_property
    def ab_baseline(self):
        """The baseline arm of an A/B run (--kokoro-ab-baseline), else None."""
        if not self.ab_command:
            return None
        from pytest_kokoro.devices.registry import baseline_factory
        from pytest_kokoro.runner.session import KokoroSession

        settings = Settings(**{**self.settings.__dict__, "device_label": f"{self.device.label} A/B baseline"})
        return KokoroSession(settings, baseline_factory(self.ab_command, self.device_settings, settings.device_label),
                             self.writer, arm="baseline")

    @functools.cached_property
    def keeper(self):
        from pytest_kokoro.gates.baselines import BaselineStore
        from pytest_kokoro.gates.keeper import GateKeeper
        from pytest_kokoro.gates.spec import GateSpec

        return GateKeeper(BaselineStore(Path(option(self.config, "kokoro_baselines_dir"))),
                          option(self.config, "kokoro_gate") or GateSpec(),
                          option(self.config, "kokoro_baseline"), option(self.config, "kokoro_save_baseline"),
                          paired=bool(self.ab_command))

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        for session in self.__dict__.get("engine_sessions", {}).values():
            session.close()
        if "ab_baseline" in self.__dict__ and self.ab_baseline is not None:
            self.ab_baseline.close()
