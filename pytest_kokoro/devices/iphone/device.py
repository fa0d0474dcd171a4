"""``--kokoro-device=iphone``: the harness app on a real iPhone, reached through pymobiledevice3.

The protocol runs over a usbmux-forwarded TCP connection to the app's port (``--serve PORT``), on every iOS
version, without a tunnel. Everything else (device facts, install, launch, stop, pulling the results the app wrote)
sits behind ``PhoneServices``: ``Pymobiledevice3Services`` is the real one; the tests use a double that raises
pymobiledevice3's own exception classes, so every preflight message below is checked.

Preflight failures are ``IPhoneError`` subclasses whose message says what is wrong and the fix.
"""
from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pytest_kokoro import __version__
from pytest_kokoro.core import protocol
from pytest_kokoro.core.protocol import ProtocolError
from pytest_kokoro.devices.base import DeviceSettings, DeviceSpec
from pytest_kokoro.devices.client import HarnessClient, HarnessError, HarnessFault, RunOutcome, StreamLink
from pytest_kokoro.devices.iphone.errors import (
    DEFAULT_BUNDLE_ID,
    SIGNING_HINT,
    AppNotServingError,
    AppOutdatedError,
    IPhoneError,
    LaunchFailedError,
    NoPhoneError,
    PhoneNotFoundError,
    PhoneNotTrustedError,
    SeveralPhonesError,
    app_not_installed,
    developer_mode_off,
    disk_image_not_mounted,
    explain,
    extra_missing,
    phone_reason,
)
from pytest_kokoro.devices.iphone.package import needs_install, package_info
from pytest_kokoro.devices.iphone.pulled import PullReport, compare_results, exclusion_note
from pytest_kokoro.devices.iphone.services import (
    RESULTS_FOLDER,
    DeviceFacts,
    PhoneServices,
    Pymobiledevice3Services,
    same_udid,
)
from pytest_kokoro.devices.iphone.targets import parse_target

MIN_HARNESS_VERSION = "0.1.0"
T = TypeVar("T")
RESULTS_NAME = re.compile(r"^benchmark_results_\d{8}_\d{6}.*\.json$")
CONNECT_RETRY_SECONDS = 0.25
DOCS = "docs/iphone.md"


def version_tuple(text: str | None) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text or "0"))


# -- the device ---------------------------------------------------------------------------------------------------
class IPhoneHarnessClient(HarnessClient):
    """A HarnessClient that stamps iPhone facts onto each result and remembers what was streamed."""

    def __init__(self, link: StreamLink, timeout: float, exit_status: Callable[[], str], extras: dict[str, Any],
                 streamed: list[dict[str, Any]]):
        super().__init__(link, timeout, exit_status)
        self._extras = extras
        self._streamed = streamed

    said_bye = False  # the app answered `shutdown` with `bye`, and then exits by itself

    def shutdown(self, timeout: float = 10.0) -> None:
        """HarnessClient.shutdown, remembering whether the app said `bye` (then there is nothing left to stop)."""
        try:
            self.link.send(protocol.request("shutdown"))
            while True:
                line = self.link.receive(timeout)
                if line is None:
                    return
                if protocol.parse_event(line)["type"] == "bye":
                    self.said_bye = True
                    return
        except (HarnessFault, ProtocolError):
            return
        finally:
            self.link.close()

    def run(self, **kwargs: Any) -> RunOutcome:
        outcome = super().run(**kwargs)
        self._streamed.append(dict(outcome.result))
        for key, value in self._extras.items():
            outcome.result.setdefault(key, value)
        return outcome


class _SocketWriter:
    """The writing half of the data channel. Closing it shuts the socket down first: StreamLink closes the writer
    before the reader, and a buffered reader cannot close while its pump thread waits in readline."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._file = sock.makefile("wb")

    def write(self, data: bytes) -> int:
        return self._file.write(data)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        try:
            self._file.close()
        except OSError:
            pass
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class IPhoneDevice:
    """One phone: preflight, install, launch (or use the running app), connect, and at the end stop and pull."""

    def __init__(self, spec: DeviceSpec, services: PhoneServices, results_dir: Path, *, launch: str = "auto",
                 port: int = 7341, app: Path | None = None, connect_timeout: float = 60.0,
                 notes: list[str] | None = None, facts_sink: dict[str, Any] | None = None,
                 bundle_id: str | None = None, weights: Path | None = None, pushed: set[str] | None = None):
        self.spec = spec
        # --kokoro-bundle-id, else the --kokoro-app package's (read below), else the default: every call to the phone
        # (installation_proxy, DVT launch, house_arrest) uses this one id.
        self.bundle_id = bundle_id or DEFAULT_BUNDLE_ID
        self.weights = Path(weights) if weights else None
        self.pushed = pushed if pushed is not None else set()  # phones whose weights this run already pushed
        self.services = services
        self.results_dir = Path(results_dir)
        self.launch_mode = launch
        self.port = port
        self.app = Path(app) if app else None
        self.connect_timeout = connect_timeout
        self.notes = notes if notes is not None else []
        self.facts_sink = facts_sink if facts_sink is not None else {}
        self.target = parse_target(spec.targets[0]) if len(spec.targets) == 1 else None
        self.udid: str | None = self.target.udid if self.target else None
        self.label = spec.label
        self.facts: DeviceFacts | None = None
        self.pid: int | None = None
        self.streamed: list[dict[str, Any]] = []
        self._socket: socket.socket | None = None
        self._results_before: set[str] | None = None
        self._stopped = False
        self._client: IPhoneHarnessClient | None = None
        if app is not None and bundle_id is None:
            package_id = package_info(self.app)[0]
            if package_id:
                self.bundle_id = package_id

    def _note(self, line: str) -> None:
        if line not in self.notes:
            self.notes.append(line)

    # -- preflight -----------------------------------------------------------------------------------------
    def _call(self, action: str, function: Callable[..., T], *args: Any) -> T:
        from pymobiledevice3.dtx.exceptions import DTXNsError, DTXProtocolError
        from pymobiledevice3.exceptions import PyMobileDevice3Exception

        try:
            return function(*args)
        # The DTX errors are no PyMobileDevice3Exception (dtx/exceptions.py): the phone refusing a launch or kill.
        except (PyMobileDevice3Exception, DTXNsError, DTXProtocolError) as error:
            raise explain(error, self.udid, action) from error
        except (OSError, TimeoutError) as error:  # a socket error or no answer in time, below pymobiledevice3
            raise IPhoneError(f"iPhone {self.udid or ''}: {action} failed ({type(error).__name__}: {error}); "
                              "reconnect the phone and unlock it; `pymobiledevice3 doctor` checks the host "
                              "and the phone") from error

    def select(self) -> str:
        if len(self.spec.targets) > 1:
            raise IPhoneError(f"{self.spec.label}: one device runs one phone; several UDIDs need pytest-xdist with "
                              f"one worker per phone: -n {len(self.spec.targets)}")
        udids = self._call("listing the connected phones", self.services.list_udids)
        if self.udid is None:
            if not udids:
                raise NoPhoneError("no iPhone is connected: plug one in over USB, unlock it and tap Trust "
                                   "(`pymobiledevice3 usbmux list` shows what usbmuxd sees).")
            if len(udids) > 1:
                raise SeveralPhonesError(f"{len(udids)} iPhones are connected ({', '.join(udids)}): choose one with "
                                         f"--kokoro-device=iphone:UDID, or use all with --kokoro-device=iphone:{','.join(udids)} "
                                         f"-n {len(udids)}")
            self.udid = udids[0]
        else:
            # Typed with or without the dash: from here on, the spelling usbmuxd (and lockdown, tunneld) use.
            found = next((u for u in udids if same_udid(u, self.udid)), None)
            if found is None:
                raise PhoneNotFoundError(
                    f"iPhone {self.udid} is not connected; connected: {', '.join(udids) or 'none'}. "
                    "Plug it in over USB and unlock it, or fix the UDID in --kokoro-device=iphone:UDID.")
            self.udid = found
        self.label = f"iphone:{self.udid}"
        return self.udid

    def preflight(self) -> DeviceFacts:
        """Lockdown facts and the checks an automatic launch needs; manual mode needs only the data channel."""
        udid = self.select()
        from pymobiledevice3.exceptions import ConnectionFailedError

        try:
            # Manual mode never asks the image mounter: on old iOS it may hold the one client it serves forever.
            facts = self._call("reading the device's facts through lockdownd", self.services.device_facts, udid,
                               self.launch_mode == "auto")
        except AppNotServingError as error:  # lockdownd unreachable: only a manual launch can go on without it
            if self.launch_mode == "auto" or not isinstance(error.__cause__, ConnectionFailedError):
                raise
            self._note(f"iphone {udid}: lockdownd did not answer ({error.__cause__}); device facts come from "
                              "the app's hello and the app's own results are not pulled")
            facts = None
        if facts is not None:
            if not facts.paired:
                raise PhoneNotTrustedError(
                    f"iPhone {udid} is not paired with this computer: unlock it, reconnect the cable and tap Trust "
                    "on 'Trust This Computer?' (or run `pymobiledevice3 lockdown pair`), then run again.")
            if self.launch_mode == "auto":
                if facts.developer_mode is False:
                    raise developer_mode_off(udid)
                if facts.image_mounted is False:
                    raise disk_image_not_mounted(udid)
        self.facts = facts
        return facts

    def ensure_app(self) -> None:
        udid = self.udid
        bundle_id = self.bundle_id
        assert udid is not None
        installed = self._call("looking up the harness app", self.services.installed_app, udid, bundle_id)
        if self.app is not None:
            package_id, local = package_info(self.app)
            if package_id not in (None, bundle_id):
                raise IPhoneError(f"--kokoro-app {self.app} is {package_id}, but --kokoro-bundle-id is {bundle_id}: "
                                  "pass the bundle id the app was built with (ios-harness/App/generate's "
                                  "KOKORO_BUNDLE_ID), or leave --kokoro-bundle-id out to take the package's")
            if needs_install(installed, local):
                self._call(f"installing {self.app}", self.services.install, udid, self.app)
                what = "installed" if installed is None else (
                    f"replaced build {installed.build_id or 'without a build id'} with")
                self.notes.append(f"iphone {udid}: {what} {bundle_id} {local.short_version} ({local.bundle_version}, "
                                  f"build {local.build_id or 'without a build id: reinstalled every run'})")
                installed = self._call("looking up the harness app", self.services.installed_app, udid, bundle_id)
        if installed is None:
            raise app_not_installed(udid, bundle_id=bundle_id)

    def launch(self) -> None:
        udid, facts = self.udid, self.facts
        assert udid is not None and facts is not None
        try:
            self.pid = self._call("launching the harness app", self.services.launch, udid, facts.ios_major,
                                  self.bundle_id, ["--serve", str(self.port)])
        except AssertionError as error:  # ProcessControl.launch asserts a non-zero pid
            raise LaunchFailedError(f"iPhone {udid} refused to launch {self.bundle_id}: unlock the phone and try "
                                    f"again. {SIGNING_HINT}.") from error

    # -- the data channel --------------------------------------------------------------------------------------
    def connect(self) -> socket.socket:
        """A usbmux-forwarded connection to the app's port, retried while the app starts up."""
        from pymobiledevice3.exceptions import (
            ConnectionFailedError,
            ConnectionFailedToUsbmuxdError,
            PyMobileDevice3Exception,
        )

        udid = self.udid
        assert udid is not None
        deadline = time.monotonic() + self.connect_timeout
        while True:
            try:
                return self.services.connect(udid, self.port)
            except ConnectionFailedToUsbmuxdError as error:
                raise explain(error, udid, "connecting to the app") from error
            except ConnectionFailedError as error:
                if time.monotonic() >= deadline:
                    how = ("the app was launched but never listened: check it started with --serve "
                           f"{self.port} (open it on the phone to see its status)" if self.launch_mode == "auto"
                           else f"start the app on the phone (from Xcode: Run, with the argument --serve {self.port}) "
                                "or use --kokoro-launch=auto")
                    raise AppNotServingError(
                        f"nothing listens on port {self.port} of iPhone {udid} after {self.connect_timeout:g} s: "
                        f"{how}; --kokoro-port must match the app's port") from error
                time.sleep(CONNECT_RETRY_SECONDS)
            except PyMobileDevice3Exception as error:
                raise explain(error, udid, "connecting to the app") from error

    def _exit_status(self) -> str:
        return (f"the usbmux connection to port {self.port} of iPhone {self.udid} ended: the app crashed, was killed "
                "(jetsam: memory) or went to the background, or the cable was unplugged; a fresh connection is "
                "tried for the next test")

    def push_weights(self) -> None:
        """--kokoro-push-weights: once per phone and run, before the app is launched (it looks its folders up on
        every request, so a running app sees them too)."""
        if self.weights is None or self.udid in self.pushed:
            return
        report = self._call(f"copying the weights in {self.weights} onto the phone", self.services.push_weights,
                            self.udid, self.bundle_id, self.weights)
        self.pushed.add(self.udid)
        self._note(report.line(self.udid))

    def start(self, timeout: float) -> HarnessClient:
        self._stopped = False
        facts = self.preflight()
        if self.launch_mode == "auto":
            self.ensure_app()
        if self.weights is not None:
            if facts is None:
                raise IPhoneError(f"iPhone {self.udid}: --kokoro-push-weights needs lockdownd (house_arrest), which "
                                  "did not answer; reconnect the phone and unlock it, or copy the weights with Finder")
            self.push_weights()
        if self.launch_mode == "auto":
            self.launch()
        if facts is not None:
            self._results_before = self._list_results()
        sock = self.connect()
        self._socket = sock
        link = StreamLink(sock.makefile("rb"), _SocketWriter(sock), self.label, on_close=self._close_socket)
        extras = {"device_udid": self.udid}
        if facts is not None:
            extras.update({"product_type": facts.product_type, "ios_version": facts.product_version})
        client = IPhoneHarnessClient(link, timeout, self._exit_status, extras, self.streamed)
        self._client = client
        try:
            hello = client.handshake(timeout=max(timeout, 60.0))
        except HarnessError as error:
            link.close()
            if error.code == "protocol_mismatch":
                raise self._outdated(f"it refused this host's protocol: {error.message}") from error
            raise
        except BaseException:
            link.close()
            raise
        if version_tuple(hello.get("harness_version")) < version_tuple(MIN_HARNESS_VERSION):
            link.close()
            raise self._outdated(f"it is harness version {hello.get('harness_version')}, this pytest-kokoro "
                                 f"{__version__} needs {MIN_HARNESS_VERSION} or later")
        self._record_facts(hello)
        return client

    def _outdated(self, why: str) -> AppOutdatedError:
        return AppOutdatedError(f"the harness app on iPhone {self.udid} is too old: {why}. Rebuild it from this "
                                f"checkout's ios-harness/App and install it with --kokoro-app (see {DOCS}).")

    def _record_facts(self, hello: dict[str, Any]) -> None:
        facts = self.facts
        self.facts_sink[self.udid] = {
            "udid": self.udid,
            "device_model": hello.get("device_model"),
            "os_version": hello.get("os_version"),
            "product_type": facts.product_type if facts else None,
            "ios_version": facts.product_version if facts else None,
            "device_name": facts.device_name if facts else None,
            "harness_version": hello.get("harness_version"),
            "launch": self.launch_mode,
        }

    def _close_socket(self) -> None:
        sock, self._socket = self._socket, None
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes the link's reader thread
        except OSError:
            pass
        sock.close()

    # -- the end of the run ---------------------------------------------------------------------------------------
    def _list_results(self) -> set[str] | None:
        from pymobiledevice3.exceptions import PyMobileDevice3Exception

        try:
            return {n for n in self.services.list_results(self.udid, self.bundle_id) if RESULTS_NAME.match(n)}
        except (PyMobileDevice3Exception, OSError) as error:
            why = explain(error, self.udid, "listing the app's results") if isinstance(
                error, PyMobileDevice3Exception) else error
            self.notes.append(f"iphone {self.udid}: cannot list {RESULTS_FOLDER} through house_arrest ({why}); "
                              "the app's own results are not compared")
            return None

    def pull_and_compare(self) -> PullReport | None:
        """Copy the result files the app wrote during this connection and compare them with the stream."""
        from pymobiledevice3.exceptions import PyMobileDevice3Exception

        if self._results_before is None or self.udid is None:
            return None
        after = self._list_results()
        if after is None:
            return None
        report = PullReport(self.udid)
        on_phone: list[dict[str, Any]] = []
        folder = self.results_dir / f"iphone-{self.udid}"
        for name in sorted(after - self._results_before):
            try:
                data = self.services.pull_result(self.udid, self.bundle_id, name)
            except (PyMobileDevice3Exception, OSError) as error:
                report.problems.append(f"cannot pull {RESULTS_FOLDER}/{name}: {error}")
                continue
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
            report.files.append(folder / name)
            try:
                results = json.loads(data)
            except ValueError as error:
                report.problems.append(f"{name} is not JSON: {error}")
                continue
            if not isinstance(results, list):
                report.problems.append(f"{name} is not a JSON array of results")
                continue
            on_phone += [r for r in results if isinstance(r, dict)]
        report.problems += compare_results(on_phone, self.streamed)
        self.notes.extend(report.lines())
        return report

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        note = exclusion_note(self.udid, self.streamed)
        if note:
            self._note(note)
        if self._client is not None:
            self._client.link.close()  # its reader and writer too, not only the socket under them
        self._close_socket()
        try:
            self.pull_and_compare()
        finally:
            self._stop_app()

    def _stop_app(self) -> None:
        """Kill the app this device launched, unless it already ended itself: after `bye` the app exits
        (KokoroBenchApp: `exit(0)` after the serving loop), and killing a pid that is gone only opens a tunnel (iOS
        17+) for the phone to answer 'No such process'."""
        pid, self.pid = self.pid, None
        if pid is None or self.facts is None:
            return
        if self._client is not None and self._client.said_bye:
            return
        from pymobiledevice3.dtx.exceptions import DTXNsError

        try:
            self._call(f"stopping the app (pid {pid})", self.services.kill, self.udid, self.facts.ios_major, pid)
        except IPhoneError as error:
            cause = error.__cause__
            why = phone_reason(cause) if isinstance(cause, DTXNsError) else str(error)
            self.notes.append(f"iphone {self.udid}: could not stop the app (pid {pid}): {why}; if it still runs, "
                              "swipe it away on the phone")


# -- a run's phones ----------------------------------------------------------------------------------------------
@dataclass
class IPhoneRun:
    """What every phone harness start of one run shares: one pymobiledevice3 connection (made on first use), the
    notes for the summary, and the facts of each phone by UDID."""

    services: PhoneServices | None = None
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    pushed: set[str] = field(default_factory=set)

    def close(self) -> None:
        services, self.services = self.services, None
        if services is not None:
            services.close()


def iphone_device(spec: DeviceSpec, settings: DeviceSettings, run: IPhoneRun) -> IPhoneDevice:
    """A fresh IPhoneDevice per harness start (the session replaces it after a fault), sharing ``run``."""
    try:
        import pymobiledevice3  # noqa: F401  (the iphone extra)
    except ModuleNotFoundError as error:
        raise extra_missing(error) from None
    try:
        target = parse_target(spec.targets[0]) if len(spec.targets) == 1 else None
    except ValueError as error:
        raise IPhoneError(f"--kokoro-device={spec.label}: {error}") from None
    if run.services is None:
        run.services = Pymobiledevice3Services(usbmux_address=target.usbmux_address if target else None)
    app, weights = settings.option("kokoro_app"), settings.option("kokoro_push_weights")
    return IPhoneDevice(spec, run.services, settings.results_dir, launch=settings.option("kokoro_launch") or "auto",
                        port=settings.option("kokoro_port") or 7341, app=Path(app) if app else None,
                        connect_timeout=min(settings.timeout, 120.0), notes=run.notes, facts_sink=run.facts,
                        bundle_id=settings.option("kokoro_bundle_id"), weights=Path(weights) if weights else None,
                        pushed=run.pushed)


def device_facts_with_thermal(facts: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    """Device facts plus what the app's results say about the device state over the run."""
    merged = {}
    for udid, known in facts.items():
        mine = [r for r in results if r.get("device_udid") == udid]
        merged[udid] = {**known,
                        "thermal_states": [[r.get("thermal_state_before"), r.get("thermal_state_after")] for r in mine],
                        "low_power_mode": sorted({str(r[k]) for r in mine for k in r if k.startswith("low_power")})}
    return merged
