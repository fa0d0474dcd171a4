"""The host side of protocol v1: a line link to a harness and a client that runs requests over it.

Every device (host subprocess, Swift CLI, iPhone app over usbmux) ends in a byte stream; ``StreamLink`` turns
any pair of binary streams into lines with a timeout, and ``HarnessClient`` speaks the protocol over it.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from pytest_kokoro.core import protocol
from pytest_kokoro.core.protocol import ProtocolError
from pytest_kokoro.core.sentences import SPLIT_NAME

_EOF = object()


class HarnessFault(Exception):
    """The harness died, hung, wrote garbage or closed its stream: it must be replaced before the next test."""


class HarnessError(Exception):
    """The harness answered a request with an error event; it is still serving unless ``fatal``."""

    def __init__(self, event: dict[str, Any]):
        super().__init__(f"[{event['code']}] {event['message']}")
        self.code = event["code"]
        self.message = event["message"]
        self.fatal = bool(event.get("fatal"))


class StreamLink:
    """Lines over a pair of binary streams; a reader thread makes ``receive`` honour a timeout."""

    def __init__(self, reader: IO[bytes], writer: IO[bytes], description: str, on_close: Callable[[], None] | None = None):
        self.description = description
        self._writer = writer
        self._reader = reader
        self._on_close = on_close
        self._lines: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, name=f"kokoro-link-{description}", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            for line in iter(lambda: self._reader.readline(protocol.MAX_LINE_BYTES * 64), b""):
                self._lines.put(line)
        except (OSError, ValueError):
            pass
        self._lines.put(_EOF)

    def send(self, message: dict[str, Any]) -> None:
        try:
            self._writer.write(protocol.encode(message))
            self._writer.flush()
        except (OSError, ValueError) as error:
            raise HarnessFault(f"{self.description}: cannot send to the harness ({error}); it has gone away") from error

    def receive(self, timeout: float) -> bytes | None:
        """The next line, None at end of stream; HarnessFault when nothing comes within ``timeout`` seconds."""
        try:
            item = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise HarnessFault(f"{self.description}: the harness sent nothing for {timeout:g} s; it hangs "
                               "(raise --kokoro-timeout if the device is just slow)") from None
        if item is _EOF:
            self._lines.put(_EOF)  # stay at end of stream for later calls
            return None
        return item

    def close(self) -> None:
        try:
            self._writer.close()  # a healthy harness exits on end of input
        except (OSError, ValueError):
            pass
        if self._on_close:
            self._on_close()  # stops the process or shuts the socket, which ends the reader thread's readline
        # Closing a reader that another thread is blocked on would block on its lock: only close a finished one.
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            try:
                self._reader.close()
            except (OSError, ValueError):
                pass


@dataclass
class RunOutcome:
    """What one ``run`` request produced: the harness's result and the events it was derived from."""

    result: dict[str, Any]
    chunks: list[dict[str, Any]] = field(default_factory=list)
    audio: np.ndarray | None = None
    host_wall_time: float = 0.0

    @property
    def chunk_times(self) -> list[float]:
        return [c["t"] for c in self.chunks]

    @property
    def chunk_samples(self) -> list[int]:
        return [c["samples"] for c in self.chunks]


class HarnessClient:
    def __init__(self, link: StreamLink, timeout: float = 120.0, exit_status: Callable[[], str] | None = None):
        self.link = link
        self.timeout = timeout
        self.hello: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._exit_status = exit_status or (lambda: "")

    def _fault(self, what: str) -> HarnessFault:
        status = self._exit_status()
        return HarnessFault(f"{self.link.description}: {what}{f' ({status})' if status else ''}")

    def _next_event(self, timeout: float | None = None) -> dict[str, Any]:
        line = self.link.receive(timeout or self.timeout)
        if line is None:
            raise self._fault("the harness closed its stream mid-request (crashed or was killed)")
        try:
            return protocol.parse_event(line)
        except ProtocolError as error:
            raise self._fault(f"the harness broke the protocol: {error.message}") from None

    def _expect(self, kind: str, request_id: str | None = None) -> dict[str, Any]:
        event = self._next_event()
        if event["type"] == "error":
            raise HarnessError(event)
        if event["type"] != kind or (request_id is not None and event.get("id") != request_id):
            raise self._fault(f"expected a {kind} event, got {str(event)[:200]}")
        return event

    def handshake(self, timeout: float | None = None) -> dict[str, Any]:
        self.link.send(protocol.request("hello", protocol=protocol.PROTOCOL_VERSION))
        line = self.link.receive(timeout or self.timeout)
        if line is None:
            raise self._fault("the harness exited before saying hello")
        try:
            event = protocol.parse_event(line)
        except ProtocolError as error:
            raise self._fault(f"the harness's first line is not a protocol event: {error.message}") from None
        if event["type"] == "error":
            raise HarnessError(event)
        if event["type"] != "hello":
            raise self._fault(f"expected hello, got {str(event)[:200]}")
        self.hello = event
        return event

    def load(self, variant: str) -> dict[str, Any]:
        self.link.send(protocol.request("load", variant=variant))
        return self._expect("loaded")

    def unload(self, variant: str) -> None:
        self.link.send(protocol.request("unload", variant=variant))
        self._expect("unloaded")

    def conditions(self) -> dict[str, Any]:
        """The device's heat now (docs/protocol.md ``conditions``): thermal state, CPU temperature and frequency,
        the calibration workload's seconds, each null where unreadable. HarnessError with the fix when the harness
        predates the request."""
        request_id = f"c{next(self._ids)}"
        self.link.send(protocol.request("conditions", id=request_id))
        try:
            event = self._expect("conditions", request_id)
        except HarnessError as error:
            if error.code != "unknown_type":
                raise
            harness = self.hello.get("harness") or "the harness"
            raise HarnessError({"code": error.code, "fatal": False, "message": (
                f"{harness} {self.hello.get('harness_version', '')} does not answer the conditions request that "
                "--kokoro-cooldown nominal needs: rebuild and reinstall the app (iphone), rebuild ios-harness (swift) "
                "or update pytest-kokoro's harness (host) from this checkout; or give --kokoro-cooldown in seconds")}) \
                from None
        return {key: event[key] for key in protocol.EVENT_FIELDS["conditions"] if key != "id"}

    def ping(self, timeout: float | None = None) -> None:
        ping_id = f"p{next(self._ids)}"
        self.link.send(protocol.request("ping", id=ping_id))
        event = self._next_event(timeout)
        if event["type"] != "pong" or event["id"] != ping_id:
            raise self._fault(f"expected pong {ping_id}, got {str(event)[:200]}")

    def run(self, *, text: str, voice: str, variant: str, speed: float = 1.0, warmup: bool = True,
            send_audio: bool = True, round_index: int = 0, timeout: float | None = None,
            split: str = SPLIT_NAME, on_chunk: Callable[[dict[str, Any]], None] | None = None) -> RunOutcome:
        """Send one run and collect its events up to ``done``; HarnessError on an error event. ``on_chunk`` sees
        each chunk event as it arrives (progress on a long text)."""
        run_id = f"r{next(self._ids)}"
        started = time.perf_counter()
        # The default strategy is left out, so that a harness older than the `split` field still serves the run.
        extra = {} if split == SPLIT_NAME else {"split": split}
        self.link.send(protocol.request("run", id=run_id, text=text, voice=voice, variant=variant, speed=speed,
                                        warmup=warmup, send_audio=send_audio, round=round_index, **extra))
        chunks: list[dict[str, Any]] = []
        audio: dict[int, np.ndarray] = {}
        while True:
            event = self._next_event(timeout)
            if event.get("id") != run_id:
                raise self._fault(f"got an event for {event.get('id')!r} while running {run_id}: {str(event)[:200]}")
            kind = event["type"]
            if kind == "chunk":
                if event["index"] != len(chunks):
                    raise self._fault(f"chunk {event['index']} arrived after {len(chunks)} chunks")
                chunks.append(event)
                if on_chunk is not None:
                    on_chunk(event)
            elif kind == "audio":
                try:
                    audio[event["index"]] = protocol.decode_audio(event)
                except (ProtocolError, ValueError) as error:
                    raise self._fault(f"undecodable audio for chunk {event['index']}: {error}") from None
            elif kind == "done":
                pcm = None
                if send_audio:
                    missing = [i for i in range(len(chunks)) if i not in audio]
                    if missing:
                        raise self._fault(f"no audio for chunks {missing}")
                    pcm = np.concatenate([audio[i] for i in range(len(chunks))]) if chunks else np.zeros(0, "<f4")
                return RunOutcome(event["result"], chunks, pcm, time.perf_counter() - started)
            elif kind == "error":
                raise HarnessError(event)
            else:
                raise self._fault(f"unexpected {kind} event during a run")

    def shutdown(self, timeout: float = 10.0) -> None:
        try:
            self.link.send(protocol.request("shutdown"))
            while True:
                line = self.link.receive(timeout)
                if line is None or protocol.parse_event(line)["type"] == "bye":
                    return
        except (HarnessFault, ProtocolError):
            return
        finally:
            self.link.close()
