"""Which phone, and through which usbmuxd: ``UDID`` or ``UDID@HOST:PORT``.

A phone attached to another Mac is reached through that Mac's usbmuxd over TCP, the way libusbmuxd and
pymobiledevice3 do it (``USBMUXD_SOCKET_ADDRESS=HOST:PORT``; pymobiledevice3 11.45 usbmux.py
``MuxConnection._resolve_usbmux_address``, which splits on the one ``:`` and opens an AF_INET socket). One pytest run
drives a lab of Macs: ``--kokoro-device=iphone:UDID1@mac1:27015,UDID2@mac2:27015 -n 2``, one xdist worker per
phone, with usbmuxd's own network access (e.g. ``socat TCP-LISTEN:27015,fork UNIX-CONNECT:/var/run/usbmuxd`` on
each Mac), no relay of ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class PhoneTarget:
    udid: str
    usbmux_address: str | None = None  # "HOST:PORT", or None for this machine's usbmuxd (or $USBMUXD_SOCKET_ADDRESS)

    def __str__(self) -> str:
        return self.udid + (f"@{self.usbmux_address}" if self.usbmux_address else "")


def parse_target(text: str) -> PhoneTarget:
    """``UDID`` or ``UDID@HOST:PORT``; ValueError with the fix on anything else."""
    text = text.strip()
    udid, at, address = text.partition("@")
    udid = udid.strip()
    example = "iphone:00008110-001A2B3C4D5E6F@mac-mini.local:27015"
    if not udid or not re.fullmatch(r"[0-9A-Za-z-]+", udid):
        raise ValueError(f"{text!r} does not start with a phone's UDID (letters, digits, with or without the dash): "
                         f"write UDID or UDID@HOST:PORT, e.g. {example}")
    if not at:
        return PhoneTarget(udid)
    host, colon, port = address.strip().rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r}: after @ comes the usbmuxd of the Mac the phone is plugged into, as HOST:PORT "
                         f"with a port from 1 to 65535, e.g. {example}")
    if not _HOST.fullmatch(host):
        raise ValueError(f"{text!r}: {host!r} is not a host name or IPv4 address (pymobiledevice3 reaches a remote "
                         f"usbmuxd as HOST:PORT with one ':'), e.g. {example}")
    return PhoneTarget(udid, f"{host}:{int(port)}")
