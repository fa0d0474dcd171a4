"""A SIMULATED usbmuxd: a loopback TCP server that speaks usbmuxd's plist protocol to pymobiledevice3's own client.

It lists fake phones (stand-ins: no phone, no USB) and, on ``Connect`` to a device port, forwards the bytes to a
local TCP server, e.g. the Swift CLI harness ``KokoroBenchHarness --listen PORT``. Point pymobiledevice3 at it with
``USBMUXD_SOCKET_ADDRESS=127.0.0.1:PORT``. Everything above the cable is then real pymobiledevice3 code.

Wire format (pymobiledevice3/usbmux.py): each packet is ``u32 LE length`` (including itself), then a header
``version, message, tag`` (u32 LE each), then a plist body (message 8 = PLIST, version 1). ``Connect`` carries the
port in network byte order; a refused port answers ``Result`` with ``Number`` 3 (CONNREFUSED), which pymobiledevice3
raises as ``ConnectionFailedError``. After a successful ``Connect`` the connection carries the device's bytes.

Not simulated: lockdownd (port 62078) and every service behind it (pairing, DVT, installation proxy, house_arrest).
A ``Connect`` to a port without a forward is refused, as a real device refuses a port nobody listens on.
"""

from __future__ import annotations

import asyncio
import plistlib
import socket
import struct
import threading
from dataclasses import dataclass, field

PLIST_VERSION = 1
MESSAGE_RESULT = 1
MESSAGE_PLIST = 8
RESULT_OK = 0
RESULT_BADCOMMAND = 1
RESULT_BADDEV = 2
RESULT_CONNREFUSED = 3


@dataclass
class FakePhone:
    """A SIMULATED phone: its UDID and which of its ports lead where (device port -> local TCP port)."""

    udid: str
    forwards: dict[int, int] = field(default_factory=dict)
    # Cut the Nth forwarded connection (0-based) after this many lines came from the device side; None = never.
    cut_connection: int | None = None
    cut_after_lines: int = 0
    connections_made: int = 0


class UsbmuxdStandIn:
    """The SIMULATED usbmuxd, served from an asyncio loop in a daemon thread. Use as a context manager."""

    def __init__(self, phones: list[FakePhone], host: str = "127.0.0.1"):
        # Any loopback address (127.0.0.2, ...): a "remote" usbmuxd of another Mac, for iphone:UDID@HOST:PORT.
        self.phones = phones
        self.host = host
        self.address: tuple[str, int] = (host, 0)
        self.requests: list[str] = []  # MessageTypes received, for tests that want to see the traffic
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="usbmuxd-standin", daemon=True)
        self._pipes: set[asyncio.StreamWriter] = set()

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def __enter__(self) -> UsbmuxdStandIn:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(asyncio.start_server(self._serve, self.host, 0), self._loop)
        self._server = future.result(10)
        self.address = self._server.sockets[0].getsockname()[:2]
        return self

    def __exit__(self, *_exc) -> None:
        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._pipes):
                writer.transport.abort()
            await asyncio.sleep(0)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @property
    def socket_address(self) -> str:
        """The value for USBMUXD_SOCKET_ADDRESS."""
        return f"{self.address[0]}:{self.address[1]}"

    # -- protocol ----------------------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._pipes.add(writer)
        try:
            while True:
                try:
                    head = await reader.readexactly(16)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                length, version, message, tag = struct.unpack("<IIII", head)
                body = await reader.readexactly(length - 16)
                if version != PLIST_VERSION or message != MESSAGE_PLIST:
                    self._send(writer, tag, {"MessageType": "Result", "Number": RESULT_BADCOMMAND})
                    continue
                request = plistlib.loads(body)
                kind = request.get("MessageType", "")
                self.requests.append(kind)
                if kind == "Connect":
                    await self._connect(request, tag, reader, writer)
                    return
                self._send(writer, tag, self._answer(kind, request))
                if kind == "Listen":
                    for reply in self._attached():
                        self._send(writer, 0, reply)
                await writer.drain()
        finally:
            self._pipes.discard(writer)
            writer.close()

    def _attached(self) -> list[dict]:
        return [{"MessageType": "Attached", "DeviceID": index + 1,
                 "Properties": {"SerialNumber": phone.udid, "ConnectionType": "USB", "DeviceID": index + 1,
                                "ProductID": 0x12A8, "LocationID": 0}}
                for index, phone in enumerate(self.phones)]

    def _answer(self, kind: str, request: dict) -> dict:
        if kind == "ReadBUID":
            return {"BUID": "SIMULATED-USBMUXD-STANDIN-BUID"}
        if kind == "ListDevices":
            return {"DeviceList": self._attached()}
        if kind == "Listen":
            return {"MessageType": "Result", "Number": RESULT_OK}
        if kind == "ReadPairRecord":
            return {}  # no pair record: the stand-in has no lockdownd to pair with
        return {"MessageType": "Result", "Number": RESULT_BADCOMMAND}

    @staticmethod
    def _send(writer: asyncio.StreamWriter, tag: int, payload: dict) -> None:
        body = plistlib.dumps(payload)
        writer.write(struct.pack("<IIII", 16 + len(body), PLIST_VERSION, MESSAGE_PLIST, tag) + body)

    async def _connect(self, request: dict, tag: int, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
        device_id = request.get("DeviceID", 0)
        port = socket.ntohs(request.get("PortNumber", 0))  # network byte order on the wire
        if not 1 <= device_id <= len(self.phones):
            self._send(writer, tag, {"MessageType": "Result", "Number": RESULT_BADDEV})
            await writer.drain()
            return
        phone = self.phones[device_id - 1]
        target = phone.forwards.get(port)
        try:
            if target is None:
                raise ConnectionRefusedError(port)
            device_reader, device_writer = await asyncio.open_connection("127.0.0.1", target, limit=1 << 26)
        except OSError:
            self._send(writer, tag, {"MessageType": "Result", "Number": RESULT_CONNREFUSED})
            await writer.drain()
            return
        self._send(writer, tag, {"MessageType": "Result", "Number": RESULT_OK})
        await writer.drain()
        index = phone.connections_made
        phone.connections_made += 1
        cut_after = phone.cut_after_lines if phone.cut_connection == index else None
        self._pipes.add(device_writer)
        try:
            await asyncio.gather(self._pump(reader, device_writer, None, writer),
                                 self._pump(device_reader, writer, cut_after, device_writer))
        finally:
            self._pipes.discard(device_writer)
            device_writer.close()

    @staticmethod
    async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, cut_after_lines: int | None,
                    other: asyncio.StreamWriter) -> None:
        """Copy bytes one way; on EOF or a simulated cut, abort both sides (a pulled cable, not a clean close)."""
        lines = 0
        try:
            while True:
                data = await source.readline() if cut_after_lines is not None else await source.read(65536)
                if not data:
                    break
                sink.write(data)
                await sink.drain()
                if cut_after_lines is not None:
                    lines += 1
                    if lines >= cut_after_lines:
                        break
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            sink.transport.abort()
            other.transport.abort()
