"""The one registry of devices: ``--kokoro-device`` -> a factory that starts that device's harness.

A factory is called once per harness start (again after a fault); what several starts share (an iPhone run's
pymobiledevice3 connection, notes and facts) lives on the factory and is closed with it.
"""

from __future__ import annotations

from typing import Any

from pytest_kokoro.devices.base import Device, DeviceSettings, DeviceSpec
from pytest_kokoro.devices.subprocess import command_device, host_device, swift_device


class DeviceFactory:
    def __init__(self, spec: DeviceSpec, settings: DeviceSettings):
        self.spec = spec
        self.settings = settings
        self.iphone_run: Any = None  # devices.iphone.device.IPhoneRun, once a phone is used

    def __call__(self) -> Device:
        kind, settings = self.spec.kind, self.settings
        if kind == "host":
            return host_device(settings.results_dir, settings.models, settings.voice_pack)
        if kind == "swift":
            return swift_device(settings.results_dir)
        if kind == "iphone":
            from pytest_kokoro.devices.iphone.device import IPhoneRun, iphone_device  # imports only for phones

            if self.iphone_run is None:
                self.iphone_run = IPhoneRun()
            return iphone_device(self.spec, settings, self.iphone_run)
        raise ValueError(f"unknown device kind {kind!r}")

    @property
    def notes(self) -> list[str]:
        return list(self.iphone_run.notes) if self.iphone_run is not None else []

    @property
    def facts(self) -> dict[str, Any]:
        return dict(self.iphone_run.facts) if self.iphone_run is not None else {}

    def close(self) -> None:
        if self.iphone_run is not None:
            self.iphone_run.close()


def baseline_factory(command: str, settings: DeviceSettings, label: str):
    """The baseline arm of an A/B run: a harness started from a command line."""
    return lambda: command_device(command, settings.results_dir, label)
