"""Headless Chromium (Debian's `chromium` package) for the report tests: the rendered DOM and the console."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

INSTALL = "apt-get install -y chromium"
_CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\]? ?(.*)")


@dataclass(frozen=True)
class Rendered:
    dom: str
    console: list[str]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(args: list[str]) -> subprocess.CompletedProcess:
    browser = chromium()
    assert browser, f"no chromium: {INSTALL}"
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start. No network is needed or allowed:
    # every host name resolves to nothing, so a page that tried to fetch anything would log an error.
    return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                           "--host-resolver-rules=MAP * ~NOTFOUND", *args],
                          capture_output=True, text=True, timeout=120)


def render(page: Path) -> Rendered:
    """The DOM after the page loaded, and every console message it logged (errors, warnings, logs)."""
    done = _run(["--dump-dom", page.resolve().as_uri()])
    assert done.returncode == 0, done.stderr[-2000:]
    console = [m.group(1) for line in done.stderr.splitlines() if (m := _CONSOLE.search(line))]
    return Rendered(done.stdout, console)


def screenshot(page: Path, png: Path, width: int = 1200, height: int = 2600) -> None:
    done = _run([f"--screenshot={png.resolve()}", f"--window-size={width},{height}", "--hide-scrollbars",
                 page.resolve().as_uri()])
    assert done.returncode == 0 and png.is_file(), done.stderr[-2000:]
