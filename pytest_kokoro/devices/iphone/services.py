"""What the iPhone device asks of a phone (``PhoneServices``) and the real implementation over pymobiledevice3.

Tests use a double that raises pymobiledevice3's own exception classes at the same points.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

# house_arrest with VendDocuments exposes the app's Documents folder at this AFC path.
RESULTS_FOLDER = "/Documents/benchmark_results"
# The Info.plist key every Xcode build of the app stamps with a fresh value (ios-harness/App/project.yml).
BUILD_ID_KEY = "KokoroBuildID"

T = TypeVar("T")


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
    build_id: str | None = None  # KokoroBuildID: changes with every build


class PhoneServices(Protocol):
    """The calls IPhoneDevice makes; they raise pymobiledevice3's exceptions, which ``explain`` turns into fixes."""

    def list_udids(self) -> list[str]: ...

    def device_facts(self, udid: str, check_image: bool = True) -> DeviceFacts: ...

    def installed_app(self, udid: str, bundle_id: str) -> AppInfo | None: ...

    def install(self, udid: str, package: Path) -> None: ...

    def launch(self, udid: str, ios_major: int, bundle_id: str, arguments: list[str]) -> int: ...

    def kill(self, udid: str, ios_major: int, pid: int) -> None: ...

    def connect(self, udid: str, port: int) -> socket.socket: ...

    def list_results(self, udid: str, bundle_id: str) -> list[str]: ...

    def pull_result(self, udid: str, bundle_id: str, name: str) -> bytes: ...

    def push_weights(self, udid: str, bundle_id: str, folder: Path) -> Any: ...

    def close(self) -> None: ...


# -- the real services ------------------------------------------------------------------------------------------
class _LoopThread:
    """One asyncio loop in a daemon thread: pymobiledevice3 is async, the plugin is not."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="kokoro-pymobiledevice3", daemon=True)
        self.thread.start()

    CANCEL_GRACE = 5.0

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float, step: str) -> T:
        """Run ``coroutine`` on the loop, at most ``timeout`` seconds. On a timeout the coroutine is cancelled (its
        ``finally`` blocks close what it opened, a tunnel included) and a built-in TimeoutError names ``step``.
        concurrent.futures.TimeoutError is caught by name: before Python 3.11 it is not the built-in one."""
        finished = threading.Event()

        async def guarded() -> T:
            try:
                return await coroutine
            finally:
                finished.set()

        future = asyncio.run_coroutine_threadsafe(guarded(), self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()  # cancels the task in the loop; the future itself is cancelled at once
            finished.wait(self.CANCEL_GRACE)  # so wait for the coroutine's own cleanup (closing a tunnel)
            raise TimeoutError(f"{step} did not finish within {timeout:g} s (cancelled)") from None

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
    # What `pymobiledevice3 doctor` allows the image mounter (doctor.py:45 MOUNTER_PROBE_TIMEOUT, used at :336):
    # before iOS 14 the mounter serves one client at a time and may never answer.
    MOUNTER_TIMEOUT = 10.0

    def __init__(self, usbmux_address: str | None = None) -> None:
        self._loop = _LoopThread()
        self.stale_tunneld: set[str] = set()
        # "HOST:PORT" of the usbmuxd the phone is plugged into (another Mac: iphone:UDID@HOST:PORT), passed to every
        # pymobiledevice3 call that opens a usbmux connection; None: this machine's (or $USBMUXD_SOCKET_ADDRESS,
        # usbmux.py MuxConnection._resolve_usbmux_address).
        self.usbmux_address = usbmux_address

    def close(self) -> None:
        self._loop.close()

    def list_udids(self) -> list[str]:
        from pymobiledevice3 import usbmux

        async def listing() -> list[str]:
            return [d.serial for d in await usbmux.list_devices(usbmux_address=self.usbmux_address) if d.is_usb]

        return self._loop.run(listing(), self.LOCKDOWN_TIMEOUT, "listing the phones through usbmuxd")

    async def _lockdown(self, udid: str):
        from pymobiledevice3.lockdown import create_using_usbmux

        return await create_using_usbmux(serial=udid, autopair=False, usbmux_address=self.usbmux_address)

    def device_facts(self, udid: str, check_image: bool = True) -> DeviceFacts:
        """Lockdown facts; with ``check_image`` also whether a developer image is mounted (None: unknown, when the
        mounter does not answer within MOUNTER_TIMEOUT)."""

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
                if check_image and found.developer_mode is not False:
                    async def is_mounted() -> bool:
                        async with MobileImageMounterService(lockdown=lockdown) as mounter:
                            return await mounter.is_image_mounted(image_type_for_device(lockdown))

                    try:
                        found.image_mounted = await asyncio.wait_for(is_mounted(), self.MOUNTER_TIMEOUT)
                    except asyncio.TimeoutError:
                        found.image_mounted = None  # unknown; launching will tell
                return found
            finally:
                await lockdown.close()

        return self._loop.run(facts(), self.LOCKDOWN_TIMEOUT, "reading the phone's facts through lockdownd")

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
            # Without ReturnAttributes, installation_proxy's lookup returns the app's whole Info.plist, our key too.
            return None if app is None else AppInfo(app.get("CFBundleVersion"), app.get("CFBundleShortVersionString"),
                                                    app.get(BUILD_ID_KEY))

        return self._loop.run(lookup(), self.LOCKDOWN_TIMEOUT, "looking up the app through installation_proxy")

    def install(self, udid: str, package: Path) -> None:
        async def install() -> None:
            from pymobiledevice3.services.installation_proxy import InstallationProxyService

            lockdown = await self._lockdown(udid)
            try:
                async with InstallationProxyService(lockdown=lockdown) as proxy:
                    await install_quietly(proxy, Path(package))
            finally:
                await lockdown.close()

        self._loop.run(install(), 600, f"installing {package}")

    async def _tunneld_provider(self, udid: str):
        """The phone's RSD through a running tunneld, or None (no tunneld, or no tunnel for this phone).

        tunneld keys its tunnels by the UDID as the phone reports it (with a dash on newer phones); the user may
        type it either way. A listed tunnel that no longer answers makes get_tunneld_device_by_udid raise
        IndexError (tunneld/api.py:195 ``rsds[0]`` after every connect failed): that is a stale entry.
        """
        from pymobiledevice3.exceptions import TunneldConnectionError
        from pymobiledevice3.tunneld.api import get_tunneld_device_by_udid, get_tunneld_tunnels

        try:
            tunnels = await get_tunneld_tunnels()
        except TunneldConnectionError:
            return None
        key = next((k for k in tunnels if same_udid(k, udid)), None)
        if key is None:
            return None
        try:
            return await get_tunneld_device_by_udid(key)
        except IndexError:
            self.stale_tunneld.add(udid)
            return None

    async def _open_rsd(self, udid: str):
        """(provider, tunnel or None) for iOS 17+: tunneld's tunnel, else the library's preferred root-free tunnel
        (PreferredRsdTunnel, remote/rsd_tunnel.py: the userspace tunnel, falling back on macOS to remoted's for
        iOS 17.0-17.3). Only a failure of the tunnel itself becomes UserspaceTunnelUnavailableError ("run
        tunneld"); a locked or unpaired phone keeps pymobiledevice3's own exception, and an already active
        userspace tunnel is TunnelAlreadyActiveError."""
        from pymobiledevice3.exceptions import PyMobileDevice3Exception, UserspaceTunnelUnavailableError
        from pymobiledevice3.remote.rsd_tunnel import PreferredRsdTunnel

        from pytest_kokoro.devices.iphone.errors import tunnel_already_active

        provider = await self._tunneld_provider(udid)
        if provider is not None:
            return provider, None
        stale = (" (tunneld lists a tunnel for this phone that no longer answers: restart tunneld)"
                 if udid in self.stale_tunneld else "")
        tunnel = PreferredRsdTunnel(serial=udid, autopair=False)
        try:
            with usbmuxd_at(self.usbmux_address):
                return await tunnel.aopen(), tunnel
        except UserspaceTunnelUnavailableError as error:
            raise UserspaceTunnelUnavailableError(f"{error}{stale}") from error
        except (OSError, asyncio.TimeoutError) as error:  # the transport itself (ConnectionError is an OSError)
            raise UserspaceTunnelUnavailableError(f"the userspace tunnel failed: {error!r}{stale}") from error
        except PyMobileDevice3Exception as error:
            # userspace_tunnel.py:758: a plain PyMobileDevice3Exception when one is already open in this process.
            if "already active" in str(error):
                raise tunnel_already_active(udid, f" ({error})") from error
            raise  # locked, not paired, ...: explain() names those

    async def _with_process_control(self, udid: str, ios_major: int, action):
        """Run ``action(process_control)`` over lockdown (iOS < 17) or an RSD tunnel (iOS 17+). Cancelling it (a
        timeout) closes the tunnel in the ``finally``."""
        from pymobiledevice3.services.dvt.instruments.dvt_provider import DvtProvider
        from pymobiledevice3.services.dvt.instruments.process_control import ProcessControl

        if ios_major < 17:
            provider, tunnel = await self._lockdown(udid), None
        else:
            provider, tunnel = await self._open_rsd(udid)
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

        return self._loop.run(self._with_process_control(udid, ios_major, launch), 120, "launching the app")

    def kill(self, udid: str, ios_major: int, pid: int) -> None:
        async def kill(process_control) -> None:
            await process_control.kill(pid)

        self._loop.run(self._with_process_control(udid, ios_major, kill), 60, f"stopping the app (pid {pid})")

    def connect(self, udid: str, port: int) -> socket.socket:
        from pymobiledevice3 import usbmux
        from pymobiledevice3.exceptions import DeviceNotFoundError

        async def connect() -> socket.socket:
            device = await usbmux.select_device(udid, usbmux_address=self.usbmux_address)
            if device is None:
                raise DeviceNotFoundError(udid, f"usbmux has no device {udid}")
            return await device.connect(port, usbmux_address=self.usbmux_address)

        sock = self._loop.run(connect(), self.LOCKDOWN_TIMEOUT, f"connecting to port {port} through usbmuxd")
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

        return self._loop.run(self._house_arrest(udid, bundle_id, listing), self.LOCKDOWN_TIMEOUT,
                              "listing the app's results through house_arrest")

    PUSH_TIMEOUT = 3600.0  # four variants are ~1 GB over USB 2

    def push_weights(self, udid: str, bundle_id: str, folder: Path):
        """Copy ``folder`` (a mirror of the app's Documents) onto the phone through house_arrest: weights.push_tree."""
        from pytest_kokoro.devices.iphone.weights import push_tree

        async def push(afc):
            return await push_tree(afc, folder)

        return self._loop.run(self._house_arrest(udid, bundle_id, push), self.PUSH_TIMEOUT,
                              f"copying {folder} onto the phone through house_arrest")

    def pull_result(self, udid: str, bundle_id: str, name: str) -> bytes:
        async def pull(afc) -> bytes:
            return await afc.get_file_contents(f"{RESULTS_FOLDER}/{name}")

        return self._loop.run(self._house_arrest(udid, bundle_id, pull), 120, f"pulling {name} through house_arrest")


@contextlib.contextmanager
def usbmuxd_at(address: str | None):
    """PreferredRsdTunnel takes no usbmux address (remote/rsd_tunnel.py:43): while it opens, the libusbmuxd variable
    that usbmux.py's _resolve_usbmux_address reads points at the phone's usbmuxd. Nothing else runs on the loop
    thread meanwhile that could read it, and one process drives one phone."""
    if address is None:
        yield
        return
    before = os.environ.get("USBMUXD_SOCKET_ADDRESS")
    os.environ["USBMUXD_SOCKET_ADDRESS"] = address
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("USBMUXD_SOCKET_ADDRESS", None)
        else:
            os.environ["USBMUXD_SOCKET_ADDRESS"] = before


def same_udid(a: str, b: str) -> bool:
    """UDIDs are the same with or without the dash (00008110-001234... / 00008110001234...), in any case."""
    return a.replace("-", "").lower() == b.replace("-", "").lower()


async def install_quietly(proxy, package: Path) -> None:
    """InstallationProxyService.install_from_local for an .ipa or a .app folder, without its progress bar.

    The library's method (installation_proxy.py:261-322) uploads through ``_upload_package`` (:254-258), which
    draws a rich ProgressBar on stderr and swaps sys.stdout/sys.stderr while it runs (progress.py _SharedDisplay):
    inside pytest that bar lands in the test output, and the library has no switch to turn it off. These are the
    same steps with its public pieces: zip a .app folder (create_ipa_contents_from_directory), upload with AFC to
    the library's staging folder without a bar, ``send_package("Install", ...)`` (raises AppInstallError), remove
    the staged file.
    """
    from pymobiledevice3.services.afc import AfcService
    from pymobiledevice3.services.installation_proxy import TEMP_REMOTE_BASEDIR, create_ipa_contents_from_directory

    contents = create_ipa_contents_from_directory(str(package)) if package.is_dir() else package.read_bytes()
    async with AfcService(proxy.lockdown) as afc:
        remote = f"{TEMP_REMOTE_BASEDIR}/{uuid.uuid4()}.ipa"
        try:
            await afc.makedirs(TEMP_REMOTE_BASEDIR)
            await afc.set_file_contents(remote, contents)
            await proxy.send_package("Install", {}, None, remote)
        finally:
            await afc.rm_single(remote, force=True)

