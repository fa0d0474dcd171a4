"""The one way results and baselines reach the disk: strict JSON (no NaN or Infinity: a number that cannot be
computed is null), written atomically (temp file beside the target, fsync, rename), under a name no other run took.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any


def strict(data: Any) -> Any:
    """``data`` with every non-finite float replaced by None, so that ``json.dumps(allow_nan=False)`` accepts it."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: strict(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [strict(value) for value in data]
    return data


def dumps(data: Any, indent: int | None = 2) -> str:
    return json.dumps(strict(data), indent=indent, ensure_ascii=False, allow_nan=False) + "\n"


def write_json_atomically(path: Path, data: Any) -> None:
    """Write ``data`` as strict JSON so that a reader (or a crash) sees the old file or the new one, never half."""
    write_text_atomically(Path(path), dumps(data))


def _readable_mode() -> int:
    """What a plain ``open(path, "w")`` would give: 0o666 less the umask (0o644 under the usual 022). mkstemp makes
    its file 0o600, which CI uploaders and teammates cannot read."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_text_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temp file lives next to the target: os.replace is atomic only within one file system.
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fchmod(out.fileno(), _readable_mode())
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def claim_new_path(path: Path) -> Path:
    """``path``, or ``NAME_2.json``, ``NAME_3.json``… : the first that did not exist, created empty (O_EXCL) so
    that two runs started in the same second never write the same file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate, number = path, 1
    while True:
        try:
            with open(candidate, "x", encoding="utf-8"):
                return candidate
        except FileExistsError:
            number += 1
            candidate = path.with_name(f"{path.stem}_{number}{path.suffix}")
