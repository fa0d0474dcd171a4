"""What the iPhone device asks of a phone (``PhoneServices``) and the real implementation over pymobiledevice3.

Tests use a double that raises pymobiledevice3's own exception classes at the same points.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar


# house_arrest with VendDocuments exposes the app's Documents folder at this AFC path.
RESULTS_FOLDER = "/Documents/benchmark_results"

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

