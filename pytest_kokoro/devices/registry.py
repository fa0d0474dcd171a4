"""The device kinds of this Python environment, found by entry point: group ``pytest_kokoro.devices``, each entry a
``DeviceKind`` instance (or a class to instantiate). pytest-kokoro registers host, swift and iphone there itself
(pyproject.toml), so a third-party kind is found, shown in --help and driven exactly like the built-in ones.
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points

from pytest_kokoro.devices.base import DeviceError, DeviceKind, DeviceSettings, DeviceSpec

GROUP = "pytest_kokoro.devices"


class UnknownDeviceError(ValueError):
    """--kokoro-device names a kind no installed package registers."""


@functools.cache
def kinds() -> dict[str, DeviceKind]:
    """Every registered kind by name, in report order (then by name)."""
    found: dict[str, DeviceKind] = {}
    for entry in entry_points(group=GROUP):
        try:
            loaded = entry.load()
        except Exception as error:  # a broken third-party package must not take the whole plugin down
            raise DeviceError(f"the device kind {entry.name!r} ({entry.value}, entry point group {GROUP}) cannot be "
                              f"loaded: {type(error).__name__}: {error}; fix or uninstall the package that "
                              "provides it") from error
        kind = loaded() if isinstance(loaded, type) else loaded
        if not isinstance(kind, DeviceKind):
            raise DeviceError(f"the entry point {entry.name} = {entry.value!r} (group {GROUP}) is not a DeviceKind")
        if kind.name != entry.name:
            raise DeviceError(f"the entry point {entry.name!r} (group {GROUP}) loads a kind named {kind.name!r}; "
                              "the two names must be the same")
        found.setdefault(kind.name, kind)  # the first distribution wins, as importlib.metadata lists them
    return dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))


def kind(name: str) -> DeviceKind:
    known = kinds()
    if name not in known:
        raise UnknownDeviceError(f"unknown device {name!r}: use {', '.join(k.spelling() for k in known.values())}")
    return known[name]


def parse_device(text: str) -> DeviceSpec:
    """``KIND`` or ``KIND:TARGET[,TARGET...]``; an argparse ``type=``."""
    name, _, rest = text.strip().partition(":")
    try:
        found = kind(name)
    except UnknownDeviceError:
        raise UnknownDeviceError(f"unknown device {text!r}: use "
                                 f"{', '.join(k.spelling() for k in kinds().values())}") from None
    return DeviceSpec(name, found.parse_targets(rest))


def report_order(device_label: str) -> tuple[int, str]:
    """Sort key for device labels in reports: the kinds' own order, unknown kinds last."""
    name = device_label.split(":")[0].split(" ")[0]
    known = kinds()
    return (known[name].order if name in known else 1000, device_label)


def baseline_factory(command: str, settings: DeviceSettings, label: str):
    """The baseline arm of an A/B run: a harness started from a command line."""
    from pytest_kokoro.devices.subprocess import command_device

    return lambda: command_device(command, settings.results_dir, label)
