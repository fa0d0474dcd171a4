"""The iPhone device kind: ``iphone`` or ``iphone:UDID[,UDID...]``, its options, one pytest-xdist worker per phone,
and the phones' facts in the summary and in pytest-benchmark's machine_info. Registered by entry point like every
kind; nothing outside ``devices/iphone`` imports this package (import-linter keeps it so)."""

from __future__ import annotations

from typing import Any

from pytest_kokoro.core.engines import module_installed
from pytest_kokoro.core.options import Option, one_of, positive_int
from pytest_kokoro.devices.base import DeviceKind, DeviceRun, DeviceSettings, DeviceSpec, WorkerSetupError

DEFAULT_PORT = 7341


class PhoneRun(DeviceRun):
    """The run's phones: one pymobiledevice3 connection (made on the first start), notes and facts by UDID."""

    def __init__(self, spec: DeviceSpec, settings: DeviceSettings):
        from pytest_kokoro.devices.iphone.device import IPhoneRun, iphone_device

        self._phones = IPhoneRun()
        super().__init__(lambda: iphone_device(spec, settings, self._phones))
        self.notes = self._phones.notes
        self.facts = self._phones.facts

    def close(self) -> None:
        self._phones.close()


class IPhoneKind(DeviceKind):
    name = "iphone"
    usage = "iphone or iphone:UDID[@HOST:PORT][,UDID[@HOST:PORT]...]"
    description = "the harness app on an iPhone over USB (pymobiledevice3), Kokoro on MLX"
    variants = ("bf16", "8bit", "6bit", "4bit")
    voices = ("af_heart",)
    order = 20
    options = (
        Option("--kokoro-app", str, "iphone: the harness app (.ipa or .app) to install when it is missing or "
               "outdated", metavar="PATH"),
        Option("--kokoro-launch", one_of("auto", "manual"), "iphone: auto (launch the app through DVT) or manual "
               "(use the app already running, started from Xcode)", default="auto"),
        Option("--kokoro-port", positive_int, "iphone: the TCP port the app serves the protocol on",
               default=DEFAULT_PORT),
        Option("--kokoro-bundle-id", str, "iphone: the bundle id you built the app with (default: the --kokoro-app "
               "package's)", metavar="ID"),
        Option("--kokoro-push-weights", str, "iphone: copy this folder's Kokoro-82M-<variant> folders (and "
               "huggingface/) into the app's Documents through house_arrest, checked by sha256, skipping what is "
               "already there", metavar="FOLDER"),
    )

    def parse_targets(self, text: str) -> tuple[str, ...]:
        """``UDID`` or ``UDID@HOST:PORT`` (a phone on another Mac's usbmuxd), comma-separated; checked here, kept as
        typed (devices/iphone/targets.py reads them again where a device is made)."""
        from pytest_kokoro.devices.iphone.targets import parse_target

        targets = tuple(target.strip() for target in text.split(",") if target.strip())
        for target in targets:
            parse_target(target)
        return targets

    def for_worker(self, spec: DeviceSpec, index: int, count: int) -> DeviceSpec:
        """Worker i drives the i-th UDID of ``iphone:UDID1,UDID2``."""
        if len(spec.targets) < 2:
            return spec  # one phone, or "any phone": each worker's preflight says what is wrong
        if index >= len(spec.targets):
            raise WorkerSetupError(f"worker gw{index} has no phone: {len(spec.targets)} UDIDs in "
                                   f"--kokoro-device={spec.label}; run with -n {len(spec.targets)} (one worker per "
                                   "phone)")
        return DeviceSpec(self.name, (spec.targets[index],))

    def preflight(self, settings: DeviceSettings, engine: str | None) -> str | None:
        if not module_installed("pymobiledevice3"):
            return ("--kokoro-device=iphone drives the phone through pymobiledevice3, which is not installed: "
                    "pip install 'pytest-kokoro[iphone]' (in a checkout of pytest-kokoro: ./scripts/bootstrap)")
        return None

    def open(self, spec: DeviceSpec, settings: DeviceSettings, engine: str | None) -> DeviceRun:
        return PhoneRun(spec, settings)

    def machine_info(self, facts: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
        if not facts:
            return {}
        from pytest_kokoro.devices.iphone.device import device_facts_with_thermal

        return {"kokoro_iphones": device_facts_with_thermal(facts, results)}


KIND = IPhoneKind()
