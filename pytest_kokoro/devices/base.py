"""Devices: how to start a harness and open its byte stream. After that, one protocol for all.

- ``host``:   ``python -m pytest_kokoro.harness``, a subprocess on stdio (real Kokoro-82M on onnxruntime).
- ``swift``:  the ios-harness CLI, a subprocess on stdio. On Linux its engine is the SIMULATED scripted engine:
              it exercises the Swift code path; its timings are not measurements of Kokoro.
- ``iphone``: the harness app on a phone over usbmux (pytest_kokoro.devices.iphone.device).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pytest_kokoro.devices.client import HarnessClient

DEFAULT_VARIANTS = {"host": ("int8",), "swift": ("bf16", "8bit", "6bit", "4bit"), "iphone": ("bf16", "8bit", "6bit", "4bit")}
DEFAULT_VOICES = {"host": ("jf_alpha",), "swift": ("af_heart",), "iphone": ("af_heart",)}


class DeviceError(Exception):
    """A device cannot be used; the message says what to do."""


@dataclass(frozen=True)
class DeviceSettings:
    """What a device needs from the run's options (never pytest's config)."""

    results_dir: Path
    timeout: float = 120.0
    models: dict[str, str] = field(default_factory=dict)  # host: VARIANT -> model file
    voice_pack: str | None = None  # host: a voice pack with more voices
    app: Path | None = None  # iphone: the .app/.ipa to install when missing or outdated
    launch: str = "auto"  # iphone: auto (DVT) or manual (the app is already running)
    port: int = 7341  # iphone: the app's protocol port
    bundle_id: str | None = None  # iphone: the app's bundle id (default: the --kokoro-app package's, else the default)
    push_weights: Path | None = None  # iphone: a folder of Kokoro-82M-<variant> folders to copy onto the phone


@dataclass(frozen=True)
class DeviceSpec:
    kind: str  # host | swift | iphone
    udids: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.kind + (":" + ",".join(self.udids) if self.udids else "")


def parse_device(text: str) -> DeviceSpec:
    """``host``, ``swift``, ``iphone`` or ``iphone:UDID[@HOST:PORT][,...]``; an argparse ``type=``."""
    kind, _, rest = text.strip().partition(":")
    if kind not in DEFAULT_VARIANTS:
        raise ValueError(f"unknown device {text!r}: use host, swift, iphone or iphone:UDID[,UDID...]")
    udids = tuple(u.strip() for u in rest.split(",") if u.strip())
    if udids and kind != "iphone":
        raise ValueError(f"only iphone takes UDIDs, got {text!r}")
    return DeviceSpec(kind, udids)


class Device(Protocol):
    label: str

    def start(self, timeout: float) -> HarnessClient: ...

    def stop(self) -> None: ...


