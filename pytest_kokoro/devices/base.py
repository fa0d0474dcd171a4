"""What every device kind is made of: the spec the user typed, the settings every kind gets, the harness a device
starts (``Device``), a run's shared state for one kind (``DeviceRun``) and the kind itself (``DeviceKind``).

A device kind owns everything about its device: its spelling in ``--kokoro-device`` (``iphone:UDID,UDID``), its
defaults (engines, variants, voices), its own options and typed settings, its rule for pytest-xdist workers, its
factory and shared run state, and the notes and facts it adds to the summary and to pytest-benchmark's
machine_info. Kinds are found by entry point (group ``pytest_kokoro.devices``, see registry.py): host, swift and
iphone register themselves exactly as a third-party package would. The plugin, the runner, the pytest-benchmark
adapter and the report look a kind up and never branch on a device's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pytest_kokoro.core.engines import EngineTable
from pytest_kokoro.core.options import Option

if TYPE_CHECKING:
    from pytest_kokoro.devices.client import HarnessClient


class DeviceError(Exception):
    """A device cannot be used; the message says what to do."""


class WorkerSetupError(ValueError):
    """This pytest-xdist worker has no device of its own; the message says what to run instead."""


@dataclass(frozen=True)
class DeviceSpec:
    """``--kokoro-device=KIND[:TARGET,TARGET...]``: the kind's name and its targets (UDIDs, addresses) as typed."""

    kind: str
    targets: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.kind + (":" + ",".join(self.targets) if self.targets else "")


@dataclass(frozen=True)
class DeviceSettings:
    """What every kind gets from the run's options (never pytest's config). A kind's own options arrive as
    ``options``: dest -> value, for the kind's own rows only, already parsed and defaulted."""

    results_dir: Path
    timeout: float = 120.0
    options: dict[str, Any] | None = None

    def option(self, dest: str) -> Any:
        return (self.options or {}).get(dest)


class Device(Protocol):
    label: str

    def start(self, timeout: float) -> HarnessClient: ...

    def stop(self) -> None: ...


class DeviceRun:
    """One kind's state for one run and one engine: makes a fresh ``Device`` for every harness start (again after
    a fault), and holds what those starts share (a phone connection, notes for the summary, facts by target)."""

    def __init__(self, make: Callable[[], Device]):
        self._make = make
        self.notes: list[str] = []
        self.facts: dict[str, Any] = {}

    def __call__(self) -> Device:
        return self._make()

    def close(self) -> None:
        pass


class DeviceKind:
    """A kind of device. Subclass it, set the class attributes, override what differs, and register an instance
    under the entry-point group ``pytest_kokoro.devices`` (docs/architecture.md, "Add a device")."""

    name: str = ""
    description: str = ""  # one line for --help: what the harness is and where it runs
    usage: str = ""  # how to spell it in --kokoro-device; default: the name
    engines: EngineTable | None = None  # None: the device runs one engine of its own
    variants: tuple[str, ...] = ()  # defaults when the kind has no engine table
    voices: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()  # the kind's own --kokoro-* options
    order: int = 100  # where its results stand in reports (host 0, swift 10, iphone 20)
    simulated: bool = False  # every engine of this kind is SIMULATED

    def spelling(self) -> str:
        return self.usage or self.name

    def parse_targets(self, text: str) -> tuple[str, ...]:
        """What follows ``KIND:`` in --kokoro-device; this default takes none."""
        if text.strip():
            raise ValueError(f"{self.name} takes no targets, got {self.name}:{text}")
        return ()

    def default_engine(self) -> str | None:
        return self.engines.default().name if self.engines is not None else None

    def defaults(self, engine: str | None, settings: DeviceSettings) -> tuple[list[str], list[str]]:
        """The variants and voices a run measures when the user names none."""
        if self.engines is not None and engine is not None:
            row = self.engines.get(engine)
            return list(row.variants), list(row.voices)
        return list(self.variants), list(self.voices)

    def for_worker(self, spec: DeviceSpec, index: int, count: int) -> DeviceSpec:
        """The device pytest-xdist worker ``index`` of ``count`` drives. This default: a harness on this machine's
        cores, which several workers would share and so measure each other."""
        raise WorkerSetupError(
            f"{count} pytest-xdist workers would start {count} {self.name} harnesses on this machine's cores, and they "
            "would measure each other: run the kokoro benchmarks without -n (pytest-xdist is for one worker per "
            "device that has its own hardware, e.g. --kokoro-device=iphone:UDID1,UDID2 -n 2)")

    def preflight(self, settings: DeviceSettings, engine: str | None) -> str | None:
        """What is missing on this machine for the device to start (a package, a tool), with the fix; None when
        nothing is. Asked once, before any case runs, so a missing install is said once, not once per case."""
        return None

    def open(self, spec: DeviceSpec, settings: DeviceSettings, engine: str | None) -> DeviceRun:
        """The run's state for ``spec`` with ``engine``; its ``__call__`` starts nothing until a case needs it."""
        raise NotImplementedError(f"device kind {self.name!r} does not implement open()")

    def machine_info(self, facts: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
        """Keys this kind adds to pytest-benchmark's machine_info, from its runs' facts and the results."""
        return {}
