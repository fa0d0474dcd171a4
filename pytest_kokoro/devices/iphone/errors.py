"""What can go wrong with a phone, as typed errors whose message says the fix; pymobiledevice3's exceptions
turned into them (``explain``)."""

from __future__ import annotations

import shlex
import sys

from pytest_kokoro.devices.base import DeviceError

# The bundle id when neither --kokoro-bundle-id nor an --kokoro-app package says another. Each user builds the app
# under their own (an App ID belongs to one team: ios-harness/App/generate).
DEFAULT_BUNDLE_ID = "dev.pytest-kokoro.KokoroBench"
DOCS = "docs/iphone.md"
# What iOS says when it refuses to launch an app whose signature it does not accept (FBSOpenApplicationServiceErrorDomain,
# "... invalid code signature, inadequate entitlements or its profile has not been explicitly trusted by the user"):
# the same words for a developer certificate never trusted and for a free team's profile that expired.
SIGNING_HINT = ("Either the app's developer certificate is not trusted yet (Settings > General > VPN & Device "
                "Management > your Apple ID > Trust), or its provisioning profile expired: a free Personal Team's "
                "apps stop launching 7 days after the build, so rebuild it in Xcode (Product > Run, Release) or "
                "pass a fresh build with --kokoro-app")


def pymobiledevice3_command(arguments: str, sudo: bool = False) -> str:
    """How to run pymobiledevice3 from a shell: the one installed beside this Python (inside a virtualenv, sudo's PATH
    does not have it, so a plain `sudo pymobiledevice3` fails with 'command not found')."""
    command = f"{shlex.quote(sys.executable)} -m pymobiledevice3 {arguments}"
    return f"sudo {command}" if sudo else command


class IPhoneExtraMissingError(DeviceError):
    """pymobiledevice3 is not installed: --kokoro-device=iphone needs the ``iphone`` extra."""


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


class ServiceRefusedError(IPhoneError):
    pass


class TunnelAlreadyActiveError(IPhoneError):
    pass


# What lockdownd calls the services this plugin starts (pymobiledevice3 11.45: installation_proxy.py:77,
# house_arrest.py:32, dtx_service_provider.py:17-19), with what a refusal usually means.
SERVICE_HINTS = {
    "com.apple.mobile.installation_proxy": ("installation_proxy (app install and lookup)",
                                            "unlock the phone and try again; if it keeps refusing, restart the phone"),
    "com.apple.mobile.house_arrest": ("house_arrest (the app's Documents folder)",
                                      "the harness app must be installed and share its Documents (UIFileSharingEnabled "
                                      "in its Info.plist); reinstall it from ios-harness/App"),
}
DVT_SERVICES = ("com.apple.instruments.remoteserver.DVTSecureSocketProxy", "com.apple.instruments.remoteserver",
                "com.apple.instruments.dtservicehub")


def phone_reason(error: BaseException) -> str:
    """What the phone itself said: a DTXNsError's NSError user_info (pymobiledevice3 dtx/exceptions.py:12-17,
    raised by dtx/channel.py:142 for an ERROR reply), else the exception's text."""
    from pymobiledevice3.dtx.exceptions import DTXNsError

    if isinstance(error, DTXNsError):
        info = error.error.user_info or {}
        parts = [str(info[k]) for k in ("NSLocalizedDescription", "NSLocalizedFailureReason",
                                         "NSLocalizedRecoverySuggestion") if info.get(k)]
        underlying = info.get("NSUnderlyingError")
        if underlying is not None:
            inner = getattr(underlying, "user_info", None) or {}
            parts.append(str(inner.get("NSLocalizedDescription") or underlying))
        where = f"{error.error.domain} code {error.error.code}"
        return f"{'; '.join(parts)} ({where})" if parts else where
    return f"{type(error).__name__}: {error}"


# -- pymobiledevice3 exceptions -> what to do ----------------------------------------------------------------------
def explain(error: BaseException, udid: str | None, action: str) -> IPhoneError:
    """Turn a pymobiledevice3 exception raised while doing ``action`` into an IPhoneError that says the fix."""
    from pymobiledevice3 import exceptions as pmd
    from pymobiledevice3.dtx.exceptions import DTXNsError, DTXProtocolError

    phone = f"iPhone {udid}" if udid else "the iPhone"
    detail = f" ({type(error).__name__}: {error})"
    if isinstance(error, DTXNsError):
        reason = phone_reason(error)
        signing = any(word in reason for word in ("code signature", "explicitly trusted", "profile"))
        return LaunchFailedError(
            f"{phone} refused {action}: {reason}. "
            + (f"{SIGNING_HINT}." if signing else "Unlock the phone and check the app opens by hand."))
    if isinstance(error, DTXProtocolError):
        return LaunchFailedError(
            f"the instruments connection to {phone} broke while {action} ({error}): reconnect the phone, unlock it "
            "and run again.")
    if isinstance(error, pmd.ConnectionFailedToUsbmuxdError):
        return UsbmuxdUnavailableError(
            f"cannot reach usbmuxd while {action}{detail}. macOS runs it always; on Linux install and start it "
            "(`sudo apt install usbmuxd`, `sudo systemctl start usbmuxd`). If USBMUXD_SOCKET_ADDRESS is set, check "
            "that it points at a running usbmuxd.")
    if isinstance(error, pmd.DeviceNotFoundError):
        return PhoneNotFoundError(f"{phone} is not connected{detail}: plug it in over USB and unlock it; "
                                  f"`{pymobiledevice3_command('usbmux list')}` shows the UDIDs usbmuxd sees.")
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
    if isinstance(error, pmd.StartServiceError):
        return service_refused(udid, error.service_name, error.message, action)
    # Over lockdown (iOS < 17) and over RSD (iOS 17+) alike: a developer service that does not exist or no mounted
    # image (lockdown.py:936 InvalidService; remote_service_discovery.py:466; mobile_image_mounter.py:124).
    if isinstance(error, (pmd.NotMountedError, pmd.DeveloperDiskImageNotFoundError, pmd.InvalidServiceError)):
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
        "`pymobiledevice3 mounter auto-mount` (iOS 17+: the personalized image, mounted over the same command; or "
        "open Xcode with the phone connected once), then run again.")


def service_refused(udid: str | None, service: str, reason: str, action: str) -> IPhoneError:
    """lockdownd refused to start ``service`` (pymobiledevice3 StartServiceError, lockdown.py:744)."""
    if service in DVT_SERVICES:
        return disk_image_not_mounted(udid, f" (it refused to start {service}: {reason or 'no reason given'})")
    name, hint = SERVICE_HINTS.get(service, (service, "unlock the phone, reconnect it and try again"))
    return ServiceRefusedError(f"iPhone {udid} refused to start {name} while {action} "
                               f"({reason or 'no reason given'}): {hint}.")


def tunnel_required(udid: str | None, detail: str = "") -> TunnelRequiredError:
    return TunnelRequiredError(
        f"iPhone {udid} runs iOS 17 or later, where launching an app needs a tunnel{detail}: start one in another "
        f"terminal with `{pymobiledevice3_command('remote tunneld', sudo=True)}` (iOS 17.4+ can also use the "
        "root-free userspace tunnel, tried automatically), or start the app yourself and pass --kokoro-launch=manual.")


def tunnel_already_active(udid: str | None, detail: str = "") -> TunnelAlreadyActiveError:
    return TunnelAlreadyActiveError(
        f"a userspace tunnel is already open in this process, so none can be opened to iPhone {udid}{detail}: "
        "pymobiledevice3 allows one per process. Run one phone per pytest-xdist worker (-n N), or start "
        f"`{pymobiledevice3_command('remote tunneld', sudo=True)}`, which serves every phone.")


def app_not_installed(udid: str | None, detail: str = "", bundle_id: str = DEFAULT_BUNDLE_ID) -> AppNotInstalledOnPhoneError:
    return AppNotInstalledOnPhoneError(
        f"the harness app {bundle_id} is not installed on iPhone {udid}{detail}: build it (ios-harness/App, see "
        f"{DOCS}) and pass --kokoro-app path/to/KokoroBench.ipa (or .app) to install it; if you built it under "
        "another bundle id, pass that with --kokoro-bundle-id.")


def extra_missing(error: BaseException) -> IPhoneExtraMissingError:
    return IPhoneExtraMissingError(
        f"--kokoro-device=iphone needs pymobiledevice3, which is not installed here ({error}): install the iphone "
        f"extra, `{shlex.quote(sys.executable)} -m pip install 'pytest-kokoro[iphone]'` (in this checkout: "
        "./scripts/bootstrap installs it), then run again.")

