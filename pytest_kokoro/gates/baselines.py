"""Named baselines, stored per device identity, so a run is only ever compared with its like.

Layout: ``<root>/<identity slug>/<name>.json``, each file
``{"name", "identity": {...}, "created", "cases": {case_id: {"rtf": [...], "ttfa": [...], "inference": [...]}}}``
with the per-round values of each case. Files are written atomically (temp file + os.replace): a crash or a
parallel worker never leaves a half-written baseline behind.

Plain module: no pytest imports.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pytest_kokoro.core.jsonfile import write_json_atomically
from pytest_kokoro.gates.spec import STORED_RESULT_KEYS

Cases = dict[str, dict[str, list[float]]]

_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class BaselineError(Exception):
    """Base of every baseline problem, so callers can catch them all."""


class BaselineNameError(BaselineError, ValueError):
    pass


class IdentityError(BaselineError, ValueError):
    pass


class BaselineNotFoundError(BaselineError, FileNotFoundError):
    pass


class BaselineMismatchError(BaselineError):
    pass


class BaselineFormatError(BaselineError, ValueError):
    pass


def release_series(version: str) -> str:
    """An OS version's release series, major.minor: "6.18.44-fc-v1252" -> "6.18", "18.1.1" -> "18.1", "26" -> "26".

    A baseline outlives patch updates (a CI runner's kernel is patched often; the timings of a speech model do not
    move with it), not a new release series."""
    match = re.match(r"\s*(\d+)(?:\.(\d+))?", version)
    if not match:
        return version
    return match.group(1) + (f".{match.group(2)}" if match.group(2) is not None else "")


@dataclass(frozen=True)
class DeviceIdentity:
    """What must match for two runs' timings to be comparable: the device model, its OS release series (patch
    versions left out: see release_series), the harness version, the engine and the variant's weights."""

    device_model: str
    os_version: str
    harness_version: str
    engine: str
    variant_sha256: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "os_version", release_series(self.os_version))

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> DeviceIdentity:
        """The identity of the device and setup that produced a result dict (its extra keys of the same names)."""
        return cls.from_dict(result, source="result")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "identity") -> DeviceIdentity:
        required = [name for name in cls.field_names() if name != "variant_sha256"]
        missing = [name for name in required if not isinstance(data.get(name), str)]
        if missing:
            raise IdentityError(
                f"{source} lacks the identity keys {', '.join(missing)} (strings); a pytest-kokoro harness writes "
                f"them as extra keys of every result"
            )
        sha = data.get("variant_sha256")
        if sha is not None and not isinstance(sha, str):
            raise IdentityError(f"{source} has a variant_sha256 that is not a string or null: {sha!r}")
        return cls(**{name: data.get(name) for name in cls.field_names()})

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    def describe(self) -> str:
        """Short human form, e.g. "iPhone15,2 iOS 18.1"."""
        return f"{self.device_model} {self.os_version}"

    def differences(self, other: DeviceIdentity) -> list[str]:
        """``field: 'mine' vs 'theirs'`` for every field that differs."""
        return [
            f"{name}: {getattr(self, name)!r} vs {getattr(other, name)!r}"
            for name in self.field_names()
            if getattr(self, name) != getattr(other, name)
        ]

    def slug(self) -> str:
        """A directory name: readable device, OS and engine, plus a hash of every field so distinct identities
        never share a directory even when sanitizing makes their readable parts equal."""
        parts = (self.device_model, self.os_version, self.engine)
        readable = "_".join(_SLUG_UNSAFE.sub("-", part).strip("-") for part in parts)
        digest = hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
        return f"{readable}_{digest}"


@dataclass(frozen=True)
class Baseline:
    name: str
    identity: DeviceIdentity
    created: str  # ISO 8601, UTC
    cases: Cases
    path: Path


class BaselineStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, name: str, identity: DeviceIdentity) -> Path:
        validate_name(name)
        return self.root / identity.slug() / f"{name}.json"

    def names(self, identity: DeviceIdentity) -> list[str]:
        """Names of the baselines stored for ``identity``."""
        directory = self.root / identity.slug()
        return sorted(path.stem for path in directory.glob("*.json")) if directory.is_dir() else []

    def save(self, name: str, identity: DeviceIdentity, cases: Mapping[str, Mapping[str, Sequence[float]]]) -> Path:
        """Store (or replace) baseline ``name`` for ``identity``; returns its path."""
        path = self.path_for(name, identity)
        document = {
            "name": name,
            "identity": identity.to_dict(),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "cases": _validated_cases(cases, source="cases to save"),
        }
        write_json_atomically(path, document)
        return path

    def load(self, name_or_path: str | os.PathLike[str], identity: DeviceIdentity) -> Baseline:
        """Load a baseline by name (for ``identity``) or by path; refuse one recorded on another setup."""
        if _looks_like_path(name_or_path):
            path = Path(name_or_path)
            if not path.is_file():
                raise BaselineNotFoundError(f"no baseline file at {path}")
        else:
            path = self.path_for(str(name_or_path), identity)
            if not path.is_file():
                raise BaselineNotFoundError(self._not_found_message(str(name_or_path), identity))
        baseline = _read_baseline(path)
        _require_same_identity(baseline, identity)
        return baseline

    def check(self, name_or_path: str | os.PathLike[str]) -> list[Baseline]:
        """Before anything is measured: the baselines ``name_or_path`` could mean (one per setup), each read and
        checked. BaselineNotFoundError when there is none, BaselineFormatError when one is broken. Which of them
        the run is compared with is known only once the harness has said what it runs on."""
        if _looks_like_path(name_or_path):
            path = Path(name_or_path)
            if not path.is_file():
                raise BaselineNotFoundError(f"no baseline file at {path}")
            return [_read_baseline(path)]
        name = validate_name(str(name_or_path))
        paths = sorted(self.root.glob(f"*/{name}.json"))
        if not paths:
            stored = sorted({p.stem for p in self.root.glob("*/*.json")})
            listing = f"stored baselines: {', '.join(stored)}" if stored else "none is stored there yet"
            raise BaselineNotFoundError(
                f"no baseline named {name!r} under {self.root} ({listing}); record one first with "
                f"--kokoro-save-baseline {name} (a run in which every case passes), or pass --kokoro-baselines-dir")
        return [_read_baseline(path) for path in paths]

    def _not_found_message(self, name: str, identity: DeviceIdentity) -> str:
        available = self.names(identity)
        listing = (
            f"baselines for this setup: {', '.join(available)}"
            if available
            else "no baselines are recorded for this setup yet"
        )
        message = (
            f"no baseline named {name!r} for {identity.describe()} (engine {identity.engine}) under {self.root}; "
            f"{listing}"
        )
        elsewhere = self._setups_with(name, identity)
        if elsewhere:
            message += (f"; {name!r} exists for other setups, which are not comparable ({'; '.join(elsewhere)}): "
                        f"record it for this one with --kokoro-save-baseline {name}")
        return message

    def _setups_with(self, name: str, identity: DeviceIdentity) -> list[str]:
        """Each other setup that has ``name``, with what differs from this one."""
        setups = []
        for path in sorted(self.root.glob(f"*/{name}.json")):
            try:
                other = _read_baseline(path).identity
            except BaselineError:
                continue  # a broken file elsewhere must not hide the real problem
            setups.append(f"{other.describe()}: " + ", ".join(other.differences(identity)))
        return setups


def validate_name(name: str) -> str:
    """A baseline name is one file name: letters, digits, '.', '_', '-', no path separators, no '.json'."""
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name) or name.endswith(".json"):
        raise BaselineNameError(
            f"invalid baseline name {name!r}: use 1-100 letters, digits, '.', '_' or '-', starting with a letter or "
            f"digit, without path separators or a .json suffix (to load a file, pass its path)"
        )
    return name


def _looks_like_path(name_or_path: str | os.PathLike[str]) -> bool:
    if isinstance(name_or_path, os.PathLike):
        return True
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return any(sep in name_or_path for sep in separators) or name_or_path.endswith(".json")


def _require_same_identity(baseline: Baseline, identity: DeviceIdentity) -> None:
    if baseline.identity == identity:
        return
    differing = "; ".join(baseline.identity.differences(identity))
    if baseline.identity.describe() != identity.describe():
        where = f"baseline was recorded on {baseline.identity.describe()}, this run is on {identity.describe()}"
    else:
        where = f"baseline was recorded on {identity.describe()} too, but with a different setup"
    raise BaselineMismatchError(
        f"{where}: compare like with like (baseline vs this run: {differing}); baseline file {baseline.path}. "
        f"Record a baseline on this setup instead"
    )


def _read_baseline(path: Path) -> Baseline:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BaselineFormatError(f"cannot read baseline {path}: {error}") from None
    if not isinstance(document, dict):
        raise BaselineFormatError(f"baseline {path} is not a JSON object")
    missing = [key for key in ("name", "identity", "created", "cases") if key not in document]
    if missing:
        raise BaselineFormatError(f"baseline {path} lacks the keys {', '.join(missing)}")
    if not isinstance(document["identity"], dict):
        raise BaselineFormatError(f"baseline {path}: 'identity' is not an object")
    try:
        identity = DeviceIdentity.from_dict(document["identity"], source=f"baseline {path}")
        cases = _validated_cases(document["cases"], source=f"baseline {path}")
    except ValueError as error:
        raise BaselineFormatError(str(error)) from None
    return Baseline(str(document["name"]), identity, str(document["created"]), cases, path)


def _validated_cases(cases: Any, source: str) -> Cases:
    """A plain copy of ``cases`` after checking its shape, so a typo never reaches disk or a comparison."""
    if not isinstance(cases, Mapping):
        raise BaselineFormatError(f"{source}: cases must map case ids to {{metric: [values]}}")
    copy: Cases = {}
    for case_id, metrics in cases.items():
        if not isinstance(case_id, str) or not isinstance(metrics, Mapping):
            raise BaselineFormatError(f"{source}: case {case_id!r} must map metric names to lists of values")
        copy[case_id] = {
            metric: _validated_values(source, case_id, metric, values) for metric, values in metrics.items()
        }
    return copy


def _validated_values(source: str, case_id: str, metric: Any, values: Any) -> list[float]:
    if metric not in STORED_RESULT_KEYS:
        known = ", ".join(sorted(STORED_RESULT_KEYS))
        raise BaselineFormatError(f"{source}: case {case_id!r} has unknown metric {metric!r}; known: {known}")
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise BaselineFormatError(f"{source}: {case_id!r} {metric} must be a list of numbers")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise BaselineFormatError(f"{source}: {case_id!r} {metric} has {value!r}, not a finite number")
    return [float(value) for value in values]
