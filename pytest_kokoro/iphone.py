"""``--device=iphone``: the harness app on a real iPhone, reached through pymobiledevice3.

The protocol runs over a usbmux-forwarded TCP connection to the app's port (``--serve PORT``), on every iOS
version, without a tunnel. Everything else (device facts, install, launch, stop, pulling the results the app wrote)
sits behind ``PhoneServices``: ``Pymobiledevice3Services`` is the real one; the tests use a double that raises
pymobiledevice3's own exception classes, so every preflight message below is checked.

Preflight failures are ``IPhoneError`` subclasses whose message says what is wrong and the fix.
"""

from __future__ import annotations

import asyncio
import json
import math
import plistlib
import re
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from . import __version__
from .client import HarnessClient, HarnessError, RunOutcome, StreamLink
from .devices import DeviceError, DeviceSpec

BUNDLE_ID = "dev.pytest-kokoro.KokoroBench"
# The oldest app this plugin talks to: the same protocol, and the result keys this version checks.
MIN_HARNESS_VERSION = "0.1.0"
# house_arrest with VendDocuments exposes the app's Documents folder at this AFC path.
RESULTS_FOLDER = "/Documents/benchmark_results"
RESULTS_NAME = re.compile(r"^benchmark_results_\d{8}_\d{6}.*\.json$")
CONNECT_RETRY_SECONDS = 0.25
DOCS = "docs/iphone.md"

T = TypeVar("T")


# -- typed, actionable errors ----------------------------------------------------------------------------------
class IPhoneError(DeviceError):
    """An iPhone cannot be used; the message names the phone, what is wrong and the fix."""


class UsbmuxdUnavailableError(IPhoneError):
    pass


class NoPhoneError(IPhoneError):
    pass


class SeveralPhonesError(IPhoneError):
    pass


class PhoneNotFoundError(IPhoneError):
    pass


class PhoneLockedError(IPhoneError):
    pass


class PhoneNotTrustedError(IPhoneError):
    pass


class DeveloperModeOffError(IPhoneError):
    pass


class DiskImageNotMountedError(IPhoneError):
    pass


class TunnelRequiredError(IPhoneError):
    pass


class AppNotInstalledOnPhoneError(IPhoneError):
    pass


class AppInstallFailedError(IPhoneError):
    pass


class AppOutdatedError(IPhoneError):
    pass


class AppNotServingError(IPhoneError):
    pass


class LaunchFailedError(IPhoneError):
    pass


# -- what the services report ------------------------------------------------------------------------------------
@dataclass
class DeviceFacts:
    """What lockdownd says about a phone (None where it could not be read)."""

    udid: str
    product_type: str | None = None  # e.g. iPhone16,1
    product_version: str | None = None  # iOS version, e.g. 17.5.1
    device_name: str | None = None
    paired: bool = True
    developer_mode: bool | None = None
    image_mounted: bool | None = None

    @property
    def ios_major(self) -> int:
        try:
            return int((self.product_version or "0").split(".")[0])
        except ValueError:
            return 0


@dataclass
class AppInfo:
    bundle_version: str | None  # CFBundleVersion
    short_version: str | None  # CFBundleShortVersionString


class PhoneServices(Protocol):
    """The calls IPhoneDevice makes; they raise pymobiledevice3's exceptions, which ``explain`` turns into fixes."""

    def list_udids(self) -> list[str]: ...

    def device_facts(self, udid: str) -> DeviceFacts: ...

    def installed_app(self, udid: str, bundle_id: str) -> AppInfo | None: ...

    def install(self, udid: str, package: Path) -> None: ...

    def launch(self, udid: str, ios_major: int, bundle_id: str, arguments: list[str]) -> int: ...

    def kill(self, udid: str, ios_major: int, pid: int) -> None: ...

    def connect(self, udid: str, port: int) -> socket.socket: ...

    def list_results(self, udid: str, bundle_id: str) -> list[str]: ...

    def pull_result(self, udid: str, bundle_id: str, name: str) -> bytes: ...

    def close(self) -> None: ...


# -- pymobiledevice3 exceptions -> what to do ----------------------------------------------------------------------
def explain(error: BaseException, udid: str | None, action: str) -> IPhoneError:
    """Turn a pymobiledevice3 exception raised while doing ``action`` into an IPhoneError that says the fix."""
    from pymobiledevice3 import exceptions as pmd

    phone = f"iPhone {udid}" if udid else "the iPhone"
    detail = f" ({type(error).__name__}: {error})"
    if isinstance(error, pmd.ConnectionFailedToUsbmuxdError):
        return UsbmuxdUnavailableError(
            f"cannot reach usbmuxd while {action}{detail}. macOS runs it always; on Linux install and start it "
            "(`sudo apt install usbmuxd`, `sudo systemctl start usbmuxd`). If USBMUXD_SOCKET_ADDRESS is set, check "
            "that it points at a running usbmuxd.")
    if isinstance(error, pmd.DeviceNotFoundError):
        return PhoneNotFoundError(f"{phone} is not connected{detail}: plug it in over USB and unlock it; "
                                  "`pymobiledevice3 usbmux list` shows the UDIDs usbmuxd sees.")
    if isinstance(error, pmd.NoDeviceConnectedError):
        return NoPhoneError(f"no iPhone is connected{detail}: plug one in over USB, unlock it and tap Trust.")
    if isinstance(error, pmd.PasswordRequiredError):
        return PhoneLockedError(
            f"{phone} is locked{detail}: unlock it with its passcode and keep it unlocked while the benchmarks run "
            "(Settings > Display & Brightness > Auto-Lock > Never).")
    if isinstance(error, (pmd.NotPairedError, pmd.NotTrustedError, pmd.PairingError, pmd.FatalPairingError)):
        return PhoneNotTrustedError(
            f"{phone} does not trust this computer{detail}: unlock it, reconnect the cable and tap Trust on "
            "'Trust This Computer?' (or run `pymobiledevice3 lockdown pair`), then run again.")
    if isinstance(error, pmd.DeveloperModeIsNotEnabledError):
        return developer_mode_off(udid, detail)
    if isinstance(error, (pmd.RSDRequiredError, pmd.TunneldConnectionError, pmd.UserspaceTunnelUnavailableError)):
        return tunnel_required(udid, detail)
    if isinstance(error, (pmd.NotMountedError, pmd.DeveloperDiskImageNotFoundError, pmd.StartServiceError,
                          pmd.InvalidServiceError)):
        return disk_image_not_mounted(udid, detail)
    if isinstance(error, pmd.AppNotInstalledError):
        return app_not_installed(udid, detail)
    if isinstance(error, pmd.AppInstallError):
        return AppInstallFailedError(
            f"installing the harness app on {phone} failed{detail}: check that the .ipa/.app is built for a device "
            f"(not the Simulator) and signed with a profile that includes this phone; see {DOCS}.")
    if isinstance(error, pmd.ConnectionFailedError):
        return AppNotServingError(f"nothing answers on {phone} while {action}{detail}.")
    return IPhoneError(f"{phone}: {action} failed{detail}; `pymobiledevice3 doctor` checks the host and the phone.")


def developer_mode_off(udid: str | None, detail: str = "") -> DeveloperModeOffError:
    return DeveloperModeOffError(
        f"Developer Mode is off on iPhone {udid}{detail}: turn it on in Settings > Privacy & Security > Developer Mode "
        "(the phone restarts; unlock it and confirm), or run `pymobiledevice3 amfi enable-developer-mode`.")


def disk_image_not_mounted(udid: str | None, detail: str = "") -> DiskImageNotMountedError:
    return DiskImageNotMountedError(
        f"the developer disk image is not mounted on iPhone {udid}{detail}, so the app cannot be launched: run "
        "`pymobiledevice3 mounter auto-mount` (or open Xcode with the phone connected once), then run again.")


def tunnel_required(udid: str | None, detail: str = "") -> TunnelRequiredError:
    return TunnelRequiredError(
        f"iPhone {udid} runs iOS 17 or later, where launching an app needs a tunnel{detail}: start one in another "
        "terminal with `sudo pymobiledevice3 remote tunneld` (iOS 17.4+ can also use the root-free userspace "
        "tunnel, tried automatically), or start the app yourself and pass --kokoro-launch=manual.")


def app_not_installed(udid: str | None, detail: str = "") -> AppNotInstalledOnPhoneError:
    return AppNotInstalledOnPhoneError(
        f"the harness app {BUNDLE_ID} is not installed on iPhone {udid}{detail}: build it (ios-harness/App, see "
        f"{DOCS}) and pass --kokoro-app path/to/KokoroBench.ipa (or .app) to install it.")


# -- the app package on this computer -------------------------------------------------------------------------------
def package_info(package: Path) -> tuple[str | None, AppInfo]:
    """(CFBundleIdentifier, versions) of a .app folder or .ipa file."""
    package = Path(package)
    try:
        if package.is_dir():
            raw = (package / "Info.plist").read_bytes()
        else:
            with zipfile.ZipFile(package) as archive:
                names = [n for n in archive.namelist() if re.fullmatch(r"Payload/[^/]+\.app/Info\.plist", n)]
                if not names:
                    raise IPhoneError(f"{package} is not an .ipa: it has no Payload/<name>.app/Info.plist")
                raw = archive.read(names[0])
        info = plistlib.loads(raw)
    except (OSError, zipfile.BadZipFile, plistlib.InvalidFileException, ValueError) as error:
        raise IPhoneError(f"--kokoro-app {package}: cannot read the app's Info.plist ({error}); pass a built "
                          ".app folder or .ipa file") from error
    return info.get("CFBundleIdentifier"), AppInfo(info.get("CFBundleVersion"), info.get("CFBundleShortVersionString"))


def version_tuple(text: str | None) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text or "0"))


# -- the device ---------------------------------------------------------------------------------------------------
@dataclass
class PullReport:
    """What the app wrote on the phone compared with what was streamed to the host."""

    udid: str
    files: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        where = ", ".join(str(f) for f in self.files) or "no new file"
        if not self.problems:
            return [f"iphone {self.udid}: the app's own results ({where}) match what was streamed"]
        return [f"iphone {self.udid}: MISMATCH between the app's results and the stream: {p}" for p in self.problems]


def compare_results(on_phone: list[dict[str, Any]], streamed: list[dict[str, Any]]) -> list[str]:
    """Same number of results, same per_sentence_inference, in order."""
    problems = []
    if len(on_phone) != len(streamed):
        problems.append(f"the app wrote {len(on_phone)} results, {len(streamed)} were streamed to the host")
    for index, (written, received) in enumerate(zip(on_phone, streamed)):
        a, b = written.get("per_sentence_inference"), received.get("per_sentence_inference")
        same = (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(a, b)))
        if not same:
            problems.append(f"result {index} ({received.get('model_name')}, {received.get('voice')}): "
                            f"per_sentence_inference {a} on the phone, {b} streamed")
    return problems


class IPhoneHarnessClient(HarnessClient):
    """A HarnessClient that stamps iPhone facts onto each result and remembers what was streamed."""

    def __init__(self, link: StreamLink, timeout: float, exit_status: Callable[[], str], extras: dict[str, Any],
                 streamed: list[dict[str, Any]]):
        super().__init__(link, timeout, exit_status)
        self._extras = extras
        self._streamed = streamed

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
                 notes: list[str] | None = None, facts_sink: dict[str, Any] | None = None):
        self.spec = spec
        self.services = services
        self.results_dir = Path(results_dir)
        self.launch_mode = launch
        self.port = port
        self.app = Path(app) if app else None
        self.connect_timeout = connect_timeout
        self.notes = notes if notes is not None else []
        self.facts_sink = facts_sink if facts_sink is not None else {}
        self.udid: str | None = spec.udids[0] if len(spec.udids) == 1 else None
        self.label = spec.label
        self.facts: DeviceFacts | None = None
        self.pid: int | None = None
        self.streamed: list[dict[str, Any]] = []
        self._socket: socket.socket | None = None
        self._results_before: set[str] | None = None
        self._stopped = False

    def _note(self, line: str) -> None:
        if line not in self.notes:
            self.notes.append(line)

    # -- preflight -----------------------------------------------------------------------------------------
    def _call(self, action: str, function: Callable[..., T], *args: Any) -> T:
        from pymobiledevice3.exceptions import PyMobileDevice3Exception

        try:
            return function(*args)
        except PyMobileDevice3Exception as error:
            raise explain(error, self.udid, action) from error
        except (OSError, TimeoutError) as error:  # a socket error or no answer in time, below pymobiledevice3
            raise IPhoneError(f"iPhone {self.udid or ''}: {action} failed ({type(error).__name__}: {error}); "
                              "reconnect the phone and unlock it; `pymobiledevice3 doctor` checks the host "
                              "and the phone") from error

    def select(self) -> str:
        if len(self.spec.udids) > 1:
            raise IPhoneError(f"{self.spec.label}: one device runs one phone; several UDIDs need pytest-xdist with "
                              f"one worker per phone: -n {len(self.spec.udids)}")
        udids = self._call("listing the connected phones", self.services.list_udids)
        if self.udid is None:
            if not udids:
                raise NoPhoneError("no iPhone is connected: plug one in over USB, unlock it and tap Trust "
                                   "(`pymobiledevice3 usbmux list` shows what usbmuxd sees).")
            if len(udids) > 1:
                raise SeveralPhonesError(f"{len(udids)} iPhones are connected ({', '.join(udids)}): choose one with "
                                         f"--device=iphone:UDID, or use all with --device=iphone:{','.join(udids)} "
                                         f"-n {len(udids)}")
            self.udid = udids[0]
        elif not any(u.replace("-", "") == self.udid.replace("-", "") for u in udids):
            raise PhoneNotFoundError(f"iPhone {self.udid} is not connected; connected: {', '.join(udids) or 'none'}. "
                                     "Plug it in over USB and unlock it, or fix the UDID in --device=iphone:UDID.")
        self.label = f"iphone:{self.udid}"
        return self.udid

    def preflight(self) -> DeviceFacts:
        """Lockdown facts and the checks an automatic launch needs; manual mode needs only the data channel."""
        udid = self.select()
        from pymobiledevice3.exceptions import ConnectionFailedError

        try:
            facts = self._call("reading the device's facts through lockdownd", self.services.device_facts, udid)
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
        assert udid is not None
        installed = self._call("looking up the harness app", self.services.installed_app, udid, BUNDLE_ID)
        if self.app is not None:
            bundle_id, local = package_info(self.app)
            if bundle_id not in (None, BUNDLE_ID):
                raise IPhoneError(f"--kokoro-app {self.app} is {bundle_id}, not the harness app {BUNDLE_ID}")
            stale = installed is None or (
                (version_tuple(installed.short_version), version_tuple(installed.bundle_version))
                != (version_tuple(local.short_version), version_tuple(local.bundle_version)))
            if stale:
                self._call(f"installing {self.app}", self.services.install, udid, self.app)
                what = "installed" if installed is None else (
                    f"replaced {installed.short_version} ({installed.bundle_version}) with")
                self.notes.append(f"iphone {udid}: {what} {BUNDLE_ID} {local.short_version} ({local.bundle_version})")
                installed = self._call("looking up the harness app", self.services.installed_app, udid, BUNDLE_ID)
        if installed is None:
            raise app_not_installed(udid)

    def launch(self) -> None:
        udid, facts = self.udid, self.facts
        assert udid is not None and facts is not None
        try:
            self.pid = self._call("launching the harness app", self.services.launch, udid, facts.ios_major,
                                  BUNDLE_ID, ["--serve", str(self.port)])
        except DiskImageNotMountedError as error:
            if facts.ios_major >= 17:
                raise tunnel_required(udid, f" ({error.__cause__})") from error
            raise
        except AssertionError as error:  # ProcessControl.launch asserts a non-zero pid
            raise LaunchFailedError(f"iPhone {udid} refused to launch {BUNDLE_ID}: unlock the phone, make sure the "
                                    "app's developer certificate is trusted (Settings > General > VPN & Device "
                                    "Management) and try again") from error

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

    def start(self, timeout: float) -> HarnessClient:
        self._stopped = False
        facts = self.preflight()
        if self.launch_mode == "auto":
            self.ensure_app()
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
            return {n for n in self.services.list_results(self.udid, BUNDLE_ID) if RESULTS_NAME.match(n)}
        except (PyMobileDevice3Exception, OSError) as error:
            self.notes.append(f"iphone {self.udid}: cannot list {RESULTS_FOLDER} through house_arrest ({error}); "
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
                data = self.services.pull_result(self.udid, BUNDLE_ID, name)
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
        self._close_socket()
        try:
            self.pull_and_compare()
        finally:
            if self.pid is not None and self.facts is not None:
                from pymobiledevice3.exceptions import PyMobileDevice3Exception

                pid, self.pid = self.pid, None
                try:
                    self.services.kill(self.udid, self.facts.ios_major, pid)
                except (PyMobileDevice3Exception, OSError) as error:
                    self.notes.append(f"iphone {self.udid}: could not stop the app (pid {pid}): {error}")


# -- the real services ------------------------------------------------------------------------------------------
class _LoopThread:
    """One asyncio loop in a daemon thread: pymobiledevice3 is async, the plugin is not."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="kokoro-pymobiledevice3", daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class Pymobiledevice3Services:
    """PhoneServices over pymobiledevice3 11.45: usbmux for the data channel, lockdown (iOS < 17) or an RSD tunnel
    (iOS 17+: tunneld, else the userspace tunnel) for DVT process control, installation_proxy, house_arrest."""

    LOCKDOWN_TIMEOUT = 30.0

    def __init__(self) -> None:
        self._loop = _LoopThread()

    def close(self) -> None:
        self._loop.close()

    def list_udids(self) -> list[str]:
        from pymobiledevice3 import usbmux

        async def listing() -> list[str]:
            return [d.serial for d in await usbmux.list_devices() if d.is_usb]

        return self._loop.run(listing(), self.LOCKDOWN_TIMEOUT)

    async def _lockdown(self, udid: str):
        from pymobiledevice3.lockdown import create_using_usbmux

        return await create_using_usbmux(serial=udid, autopair=False)

    def device_facts(self, udid: str) -> DeviceFacts:
        async def facts() -> DeviceFacts:
            from pymobiledevice3.services.mobile_image_mounter import MobileImageMounterService, image_type_for_device

            lockdown = await self._lockdown(udid)
            try:
                values = lockdown.all_values
                found = DeviceFacts(udid, values.get("ProductType"), values.get("ProductVersion"),
                                    values.get("DeviceName"), paired=bool(lockdown.paired))
                if not found.paired:
                    return found
                if found.ios_major >= 16:
                    found.developer_mode = await lockdown.get_developer_mode_status()
                if found.developer_mode is not False:
                    async with MobileImageMounterService(lockdown=lockdown) as mounter:
                        found.image_mounted = await mounter.is_image_mounted(image_type_for_device(lockdown))
                return found
            finally:
                await lockdown.close()

        return self._loop.run(facts(), self.LOCKDOWN_TIMEOUT)

    def installed_app(self, udid: str, bundle_id: str) -> AppInfo | None:
        async def lookup() -> AppInfo | None:
            from pymobiledevice3.services.installation_proxy import InstallationProxyService

            lockdown = await self._lockdown(udid)
            try:
                async with InstallationProxyService(lockdown=lockdown) as proxy:
                    apps = await proxy.get_apps(application_type="User", bundle_identifiers=[bundle_id])
            finally:
                await lockdown.close()
            app = apps.get(bundle_id)
            return None if app is None else AppInfo(app.get("CFBundleVersion"), app.get("CFBundleShortVersionString"))

        return self._loop.run(lookup(), self.LOCKDOWN_TIMEOUT)

    def install(self, udid: str, package: Path) -> None:
        async def install() -> None:
            from pymobiledevice3.services.installation_proxy import InstallationProxyService

            lockdown = await self._lockdown(udid)
            try:
                async with InstallationProxyService(lockdown=lockdown) as proxy:
                    await proxy.install_from_local(Path(package))
            finally:
                await lockdown.close()

        self._loop.run(install(), 600)

    async def _with_process_control(self, udid: str, ios_major: int, action):
        """Run ``action(process_control)`` over lockdown (iOS < 17) or an RSD tunnel (iOS 17+)."""
        from pymobiledevice3.services.dvt.instruments.dvt_provider import DvtProvider
        from pymobiledevice3.services.dvt.instruments.process_control import ProcessControl

        if ios_major < 17:
            provider = await self._lockdown(udid)
            tunnel = None
        else:
            from pymobiledevice3.exceptions import TunneldConnectionError, UserspaceTunnelUnavailableError
            from pymobiledevice3.remote.userspace_tunnel import UserspaceRsdTunnel
            from pymobiledevice3.tunneld.api import get_tunneld_device_by_udid

            tunnel = None
            try:
                provider = await get_tunneld_device_by_udid(udid)
            except TunneldConnectionError:
                provider = None
            if provider is None:
                tunnel = UserspaceRsdTunnel(serial=udid, autopair=False)
                try:
                    provider = await tunnel.aopen()
                except Exception as error:  # every transport failure means the same fix: a tunnel
                    raise UserspaceTunnelUnavailableError(f"no tunneld and no userspace tunnel: {error}") from error
        try:
            async with DvtProvider(provider) as dvt, ProcessControl(dvt) as process_control:
                return await action(process_control)
        finally:
            if tunnel is not None:
                await tunnel.aclose()
            else:
                await provider.close()

    def launch(self, udid: str, ios_major: int, bundle_id: str, arguments: list[str]) -> int:
        async def launch(process_control) -> int:
            return await process_control.launch(bundle_id, arguments=arguments, kill_existing=True)

        return self._loop.run(self._with_process_control(udid, ios_major, launch), 120)

    def kill(self, udid: str, ios_major: int, pid: int) -> None:
        async def kill(process_control) -> None:
            await process_control.kill(pid)

        self._loop.run(self._with_process_control(udid, ios_major, kill), 60)

    def connect(self, udid: str, port: int) -> socket.socket:
        from pymobiledevice3 import usbmux
        from pymobiledevice3.exceptions import DeviceNotFoundError

        async def connect() -> socket.socket:
            device = await usbmux.select_device(udid)
            if device is None:
                raise DeviceNotFoundError(udid, f"usbmux has no device {udid}")
            return await device.connect(port)

        sock = self._loop.run(connect(), self.LOCKDOWN_TIMEOUT)
        sock.setblocking(True)
        return sock

    async def _house_arrest(self, udid: str, bundle_id: str, action):
        from pymobiledevice3.services.house_arrest import HouseArrestService

        lockdown = await self._lockdown(udid)
        try:
            async with await HouseArrestService.create(lockdown, bundle_id, documents_only=True) as afc:
                return await action(afc)
        finally:
            await lockdown.close()

    def list_results(self, udid: str, bundle_id: str) -> list[str]:
        async def listing(afc) -> list[str]:
            if not await afc.exists(RESULTS_FOLDER):
                return []
            return list(await afc.listdir(RESULTS_FOLDER))

        return self._loop.run(self._house_arrest(udid, bundle_id, listing), self.LOCKDOWN_TIMEOUT)

    def pull_result(self, udid: str, bundle_id: str, name: str) -> bytes:
        async def pull(afc) -> bytes:
            return await afc.get_file_contents(f"{RESULTS_FOLDER}/{name}")

        return self._loop.run(self._house_arrest(udid, bundle_id, pull), 120)


# -- the plugin's entry point ----------------------------------------------------------------------------------------
_SHARED: dict[int, tuple[Pymobiledevice3Services, list[str], dict[str, Any]]] = {}


def run_state(config: Any) -> tuple[list[str], dict[str, Any]]:
    """This run's iPhone notes (summary lines) and device facts (by UDID), empty when no phone was used."""
    entry = _SHARED.get(id(config))
    return (entry[1], entry[2]) if entry else ([], {})


def iphone_device(config: Any, spec: DeviceSpec, results_dir: Path,
                  services: PhoneServices | None = None) -> IPhoneDevice:
    """The plugin's factory: a fresh IPhoneDevice per harness start (the session replaces it after a fault)."""
    from .plugin import option

    entry = _SHARED.get(id(config))
    if entry is None:
        entry = (Pymobiledevice3Services(), [], {})
        _SHARED[id(config)] = entry
        config.add_cleanup(lambda: _SHARED.pop(id(config))[0].close())
        config.pluginmanager.register(_IPhoneReporting(config), "kokoro-iphone-reporting")
    app = option(config, "kokoro_app")
    return IPhoneDevice(spec, services or entry[0], results_dir, launch=option(config, "kokoro_launch"),
                        port=option(config, "kokoro_port"), app=Path(app) if app else None,
                        connect_timeout=min(option(config, "kokoro_timeout"), 120.0), notes=entry[1],
                        facts_sink=entry[2])


class _IPhoneReporting:
    """Hook implementations, registered once a phone is used: the summary lines and pytest-benchmark's machine_info."""

    def __init__(self, config: Any):
        self.config = config

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        notes, _ = run_state(self.config)
        if notes:
            terminalreporter.section("kokoro iphone")
            for line in notes:
                terminalreporter.write_line(line)

    def pytest_benchmark_update_machine_info(self, config: Any, machine_info: dict[str, Any]) -> None:
        _, facts = run_state(config)
        if facts:
            machine_info["kokoro_iphones"] = device_facts_with_thermal(config, facts)


def device_facts_with_thermal(config: Any, facts: dict[str, Any]) -> dict[str, Any]:
    """Device facts plus what the app's results say about the device state over the run."""
    from .plugin import SESSION_KEY

    session = config.stash.get(SESSION_KEY, None)
    results = session.writer.results if session is not None else []
    merged = {}
    for udid, known in facts.items():
        mine = [r for r in results if r.get("device_udid") == udid]
        merged[udid] = {**known,
                        "thermal_states": [[r.get("thermal_state_before"), r.get("thermal_state_after")] for r in mine],
                        "low_power_mode": sorted({str(r[k]) for r in mine for k in r if k.startswith("low_power")})}
    return merged
