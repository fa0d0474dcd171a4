"""``--kokoro-push-weights FOLDER``: the model and G2P files onto the phone without Xcode, Finder or the Files app.

FOLDER mirrors the app's Documents folder (docs/iphone.md "The weights")::

    FOLDER/models/Kokoro-82M-<variant>/config.json, kokoro-v1_0.safetensors, voices/<voice>.safetensors
    FOLDER/huggingface/hub/mlx-audio/beshkenadze_kitten-tts-g2p/us_bart.safetensors, ...

Each file goes through house_arrest (AFC on the app's Documents: pymobiledevice3 11.45 services/house_arrest.py,
services/afc.py) to the same path under /Documents, is read back from the phone and its sha256 compared with the
local file's, and is recorded in /Documents/.kokoro-weights.json. A file whose size on the phone and recorded sha256
match the local file is skipped, so a second run copies nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_kokoro.devices.iphone.errors import IPhoneError

DOCUMENTS = "/Documents"
MANIFEST = f"{DOCUMENTS}/.kokoro-weights.json"
TOP_FOLDERS = ("models", "huggingface")  # nothing else in Documents is ours to write (benchmark_results is the app's)
CHUNK = 4 * 1024 * 1024  # AFC's MAXIMUM_READ_SIZE (afc.py:58)


class WeightsPushError(IPhoneError):
    """The weights could not be copied, or a copy on the phone differs from the file on this computer."""


@dataclass
class PushReport:
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    bytes_copied: int = 0

    def line(self, udid: str) -> str:
        return (f"iphone {udid}: weights: {len(self.copied)} file(s) copied ({self.bytes_copied / 1e6:.1f} MB, "
                f"sha256 checked on the phone), {len(self.skipped)} already there")


def local_files(folder: Path) -> Iterator[tuple[Path, str]]:
    """(local file, path on the phone) for every file under FOLDER/models and FOLDER/huggingface, hidden ones left
    out (a Hugging Face download's .cache, .git)."""
    folder = Path(folder)
    tops = [folder / top for top in TOP_FOLDERS if (folder / top).is_dir()]
    if not tops:
        raise WeightsPushError(
            f"--kokoro-push-weights {folder}: no models/ or huggingface/ folder in it. It mirrors the app's Documents: "
            f"{folder}/models/Kokoro-82M-4bit/kokoro-v1_0.safetensors, {folder}/huggingface/hub/mlx-audio/"
            "beshkenadze_kitten-tts-g2p/us_bart.safetensors, ... (docs/iphone.md, 'The weights')")
    for top in tops:
        for path in sorted(top.rglob("*")):
            relative = path.relative_to(folder)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                yield path, f"{DOCUMENTS}/{relative.as_posix()}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


async def _phone_sha256(afc: Any, remote: str, size: int) -> str:
    digest = hashlib.sha256()
    handle = await afc.fopen(remote, "r")
    try:
        left = size
        while left > 0:
            block = await afc.fread(handle, min(CHUNK, left))
            if not block:
                break
            digest.update(block)
            left -= len(block)
    finally:
        await afc.fclose(handle)
    return digest.hexdigest()


async def _read_manifest(afc: Any) -> dict[str, dict[str, Any]]:
    if not await afc.exists(MANIFEST):
        return {}
    try:
        data = json.loads(await afc.get_file_contents(MANIFEST))
    except ValueError:
        return {}  # a damaged manifest only costs a fresh copy
    return data if isinstance(data, dict) else {}


async def push_tree(afc: Any, folder: Path) -> PushReport:
    """Copy what is missing or different, check each copy's sha256 on the phone, record it in the manifest."""
    from pymobiledevice3.exceptions import AfcFileNotFoundError

    report = PushReport()
    manifest = await _read_manifest(afc)
    made: set[str] = set()
    for local, remote in local_files(folder):
        size = local.stat().st_size
        digest = sha256_of(local)
        try:
            on_phone = (await afc.stat(remote))["st_size"]
        except AfcFileNotFoundError:
            on_phone = None
        known = manifest.get(remote, {})
        if on_phone == size and known.get("sha256") == digest:
            report.skipped.append(remote)
            continue
        parent = remote.rsplit("/", 1)[0]
        if parent not in made:
            await afc.makedirs(parent)
            made.add(parent)
        handle = await afc.fopen(remote, "w")
        try:
            with open(local, "rb") as file:
                while block := file.read(CHUNK):
                    await afc.fwrite(handle, block)
        finally:
            await afc.fclose(handle)
        written = (await afc.stat(remote))["st_size"]
        if written != size or await _phone_sha256(afc, remote, size) != digest:
            raise WeightsPushError(
                f"{remote} on the phone differs from {local} after copying ({written} of {size} bytes, sha256 "
                "mismatch): the phone may be out of space (Settings > General > iPhone Storage) or the cable "
                "unreliable; free space and run again (files already checked are kept)")
        manifest[remote] = {"sha256": digest, "size": size}
        await afc.set_file_contents(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
        report.copied.append(remote)
        report.bytes_copied += size
    return report
