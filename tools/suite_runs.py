"""Whole runs of the real suite for the measurement tools (tools/aa_pool.py, tools/order_effect.py): one folder a
run, holding its results, its pytest output and a small JSON of how it ran (exit, load before and after, seconds);
and reading such folders back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# What every measuring run shares: the suite, in collection order, quiet, on the `short` text.
SUITE = ["-m", "pytest", "benchmarks/test_kokoro.py", "-p", "no:randomly", "-p", "no:cacheprovider", "-q",
         "--kokoro-texts=short"]


def run_suite(folder: Path, args: list[str], meta: dict[str, Any], meta_name: str) -> dict[str, Any]:
    """Run the suite with ``args`` into ``folder``; write ``meta`` (plus the argv, exit, load and timing) as
    ``folder/meta_name`` and the pytest output beside it; return the written meta."""
    argv = [sys.executable, *SUITE, *args, f"--kokoro-results-dir={folder}"]
    before = os.getloadavg()[0]
    started = datetime.now()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    meta = {**meta, "argv": argv[2:], "exit": done.returncode, "load_before": before,
            "load_after": os.getloadavg()[0], "started": started.isoformat(timespec="seconds"),
            "seconds": round((datetime.now() - started).total_seconds(), 1)}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / meta_name).write_text(json.dumps(meta, indent=1))
    (folder / "pytest_output.txt").write_text(done.stdout + done.stderr)
    return meta


def results_rows(folder: Path) -> list[dict[str, Any]]:
    """The rounds of a run's newest results file; [] when it wrote none."""
    files = sorted(folder.glob("benchmark_results_*.json"))
    return json.loads(files[-1].read_text()) if files else []


def load_runs(pool: Path, meta_name: str) -> list[tuple[dict[str, Any], Path]]:
    """Every run under ``pool``: its meta and its folder, oldest first."""
    return [(json.loads(meta.read_text()), meta.parent) for meta in sorted(pool.glob(f"*/{meta_name}"))]
