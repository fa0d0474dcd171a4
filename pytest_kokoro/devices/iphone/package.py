"""The harness app package on this computer (``--kokoro-app``): its bundle id, versions and build id, and whether
the phone needs it installed."""

from __future__ import annotations

import plistlib
import re
import zipfile
from pathlib import Path

from pytest_kokoro.devices.iphone.errors import IPhoneError
from pytest_kokoro.devices.iphone.services import BUILD_ID_KEY, AppInfo


def package_info(package: Path) -> tuple[str | None, AppInfo]:
    """(CFBundleIdentifier, versions and build id) of a .app folder or .ipa file."""
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
    return info.get("CFBundleIdentifier"), AppInfo(info.get("CFBundleVersion"), info.get("CFBundleShortVersionString"),
                                                   info.get(BUILD_ID_KEY))


def needs_install(installed: AppInfo | None, local: AppInfo) -> bool:
    """Install when the app is missing or is another build. The build id (KokoroBuildID, stamped by every Xcode
    build: ios-harness/App/project.yml) changes with every build; the versions do not (XcodeGen writes the same
    ones each time), so they alone would leave a rebuilt app uninstalled and old code running. A package without a
    build id cannot be told apart from the installed one: it is installed every time."""
    if installed is None or local.build_id is None:
        return True
    return installed.build_id != local.build_id
