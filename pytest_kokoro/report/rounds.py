"""Results files read for the HTML report: every round of every file, or one message that says what is wrong.

A file is a JSON array of rounds in kokoro_benchmark.py's schema (docs/results.md). Rounds written before this
version of pytest-kokoro lack newer keys (the playback keys, `case`, `device`); they load, and the report leaves
out what it cannot compute for them. A round without the reference's 14 keys is rejected with the reason, never
skipped: a report that silently drops rounds would misstate the medians.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_kokoro.core.metrics import chunk_times_of, replay_playback
from pytest_kokoro.core.schema import ResultsFileError, validate_result
from pytest_kokoro.core.sentences import SPLIT_NAME

_STAMP = re.compile(r"(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})")


class ReportInputError(ValueError):
    """Input the report cannot be made from; the message names the file and what to do."""


@dataclass(frozen=True)
class Run:
    """One results file: its rounds, in order, and a label for trend plots."""

    path: Path
    label: str
    rounds: list[dict[str, Any]]


def run_label(path: Path) -> str:
    """``benchmark_results_20261125_164500.json`` -> ``2026-11-25 16:45:00``; else the file name."""
    match = _STAMP.search(path.name)
    if not match:
        return path.name
    y, mo, d, h, mi, s = match.groups()
    return f"{y}-{mo}-{d} {h}:{mi}:{s}"


def load_runs(paths: list[Path]) -> list[Run]:
    if not paths:
        raise ReportInputError("no results files given: pass one or more results/benchmark_results_*.json")
    runs = [load_run(Path(p)) for p in paths]
    return sorted(runs, key=lambda run: (run.label, str(run.path)))


def load_run(path: Path) -> Run:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ReportInputError(f"{path}: cannot read it ({error.strerror or error})") from None
    if not text.strip():
        raise ReportInputError(f"{path}: the file is empty; a results file is a JSON array of rounds")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportInputError(f"{path}: not JSON ({error}); was the run interrupted while writing it?") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ReportInputError(f"{path}: a results file is a JSON array of round objects")
    if not data:
        raise ReportInputError(f"{path}: the file holds no rounds")
    rounds = []
    for index, item in enumerate(data):
        try:
            validate_result(item, harness=False)
        except ResultsFileError as error:
            raise ReportInputError(f"{path}: round {index}: {error}") from None
        rounds.append(with_report_keys(item))
    return Run(path, run_label(path), rounds)


def with_report_keys(result: dict[str, Any]) -> dict[str, Any]:
    """The round with the keys the report groups by, and its playback replayed when its chunks allow it."""
    out = dict(result)
    out.setdefault("device", result.get("platform", "reference"))
    out.setdefault("variant", result["model_name"])
    if str(result.get("weights_source", "")).startswith("derived"):  # mlx engine (docs/mlx.md): never a row of
        out["variant"] = f"{out['variant']} (derived)"  # the official weights' variant
    out.setdefault("split", SPLIT_NAME)
    out.setdefault("case", f"{out['variant']}-{result['voice']}")
    samples = result.get("chunk_samples")
    if samples and len(samples) == len(result["per_sentence_inference"]):
        playback = replay_playback(chunk_times_of(result["per_sentence_inference"]), samples, result["sample_rate"])
        out["_playback"] = playback
        for key, value in playback.result_keys().items():
            out.setdefault(key, value)
    return out
