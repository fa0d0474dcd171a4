"""The order effect on this machine (GitHub issue 23): does what ran first, or last, decide a comparison?

Two host engines of one voice × text (onnxruntime and sherpa-onnx, each its own harness process) are compared by
the real suite in four arrangements, taken in rotation so that drift on a shared machine hits them all alike:

  grouped A→B       --kokoro-order=grouped, all onnxruntime rounds, then all sherpa-onnx rounds
  grouped B→A       the same, sherpa-onnx first
  interleaved A↔B   --kokoro-order=interleaved (A B, B A, A B, ...), onnxruntime listed first
  interleaved B↔A   the same, sherpa-onnx listed first

    .venv/bin/python tools/order_effect.py run --repeats 2 --rounds 12 --label quiet
    .venv/bin/python tools/order_effect.py report [--pool tools/data/order_effect]

The report gives, per arrangement, each engine's median TTFA and RTF and the ratio sherpa-onnx/onnxruntime of the
medians; the order effect is how far that ratio moves when the order flips (grouped: which engine ran first;
interleaved: which was listed first). It also gives each engine's median when it ran first against when it ran last
in grouped runs. Results stay under results/order_effect/, one folder per pytest run (with its load before and
after).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.suite_runs import load_runs, results_rows, run_suite  # noqa: E402

POOL = ROOT / "results" / "order_effect"
A, B = "onnxruntime", "sherpa-onnx"
ARRANGEMENTS = {"grouped A→B": ("grouped", (A, B)), "grouped B→A": ("grouped", (B, A)),
                "interleaved A↔B": ("interleaved", (A, B)), "interleaved B↔A": ("interleaved", (B, A))}
KEYS = (("TTFA", "time_to_first_audio"), ("RTF", "real_time_factor"))


def run_once(name: str, rounds: int, label: str, extra: list[str]) -> None:
    order, engines = ARRANGEMENTS[name]
    folder = POOL / f"{datetime.now().strftime('%Y%m%d_%H%M%S')}_{label}_{order}_{engines[0]}"
    meta = run_suite(folder, [f"--kokoro-rounds={rounds}", f"--kokoro-order={order}",
                              f"--kokoro-engine={','.join(engines)}", *extra],
                     {"arrangement": name, "label": label}, "order_run.json")
    print(f"{name} ({label}): exit {meta['exit']}, {meta['seconds']} s, load {meta['load_before']:.1f} -> "
          f"{meta['load_after']:.1f}", file=sys.stderr, flush=True)


def rounds_of(folder: Path) -> list[dict[str, Any]]:
    return [r for r in results_rows(folder) if not r.get("broken_rules")]


def median_of(rounds: list[dict[str, Any]], engine: str, key: str) -> float | None:
    values = [r[key] for r in rounds if r["engine"] == engine]
    return statistics.median(values) if values else None


def report(pool: Path = POOL) -> str:
    runs = [{**meta, "rounds": rounds_of(folder)} for meta, folder in load_runs(pool, "order_run.json")]
    if not runs:
        return f"no runs under {pool}; make some with: .venv/bin/python tools/order_effect.py run"
    lines = ["| run | arrangement | load before → after | RTF onnxruntime | RTF sherpa-onnx | RTF ratio sherpa/ort |",
             "| --- | --- | --- | --- | --- | --- |"]
    spread: dict[tuple[str, str], list[float]] = {}
    for run in runs:
        a, b = (median_of(run["rounds"], engine, "real_time_factor") for engine in (A, B))
        if a and b:
            spread.setdefault((run["label"], ARRANGEMENTS[run["arrangement"]][0]), []).append(b / a)
        lines.append(f"| {run.get('started', '')} | {run['arrangement']} | {run.get('load_before', 0):.1f} → "
                     f"{run.get('load_after', 0):.1f} | {a or 0:.3f} | {b or 0:.3f} | {(b / a) if a and b else 0:.3f} |")
    lines += ["", "| label | order | runs | RTF ratio sherpa/ort, per run: lowest–highest (range) |", "| --- | --- | --- | --- |"]
    for (label, order), ratios in sorted(spread.items()):
        lines.append(f"| {label} | {order} | {len(ratios)} | {min(ratios):.3f}–{max(ratios):.3f} "
                     f"({(max(ratios) / min(ratios) - 1) * 100:.0f}%) |")
    lines += ["", "| arrangement | label | runs | rounds per engine | TTFA onnxruntime / sherpa-onnx s | RTF onnxruntime / "
             "sherpa-onnx | TTFA ratio sherpa/ort | RTF ratio sherpa/ort |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["arrangement"], run["label"]), []).append(run)
    for (name, label), members in sorted(groups.items(), key=lambda kv: (kv[0][1], list(ARRANGEMENTS).index(kv[0][0]))):
        rounds = [r for run in members for r in run["rounds"]]
        cells = []
        ratios = []
        for _, key in KEYS:
            a, b = median_of(rounds, A, key), median_of(rounds, B, key)
            cells.append(f"{a:.3f} / {b:.3f}" if a and b else "-")
            ratios.append(f"{b / a:.3f}" if a and b else "-")
        count = sum(1 for r in rounds if r["engine"] == A)
        lines.append(f"| {name} | {label} | {len(members)} | {count} | {' | '.join(cells)} | {' | '.join(ratios)} |")
    lines += ["", "| engine | label | grouped: median when first / when last, TTFA | RTF |", "| --- | --- | --- | --- |"]
    for label in sorted({run["label"] for run in runs}):
        for engine in (A, B):
            cells = []
            for _, key in KEYS:
                first = [r[key] for run in runs if run["label"] == label and run["arrangement"].startswith("grouped")
                         for r in run["rounds"] if r["engine"] == engine and ARRANGEMENTS[run["arrangement"]][1][0] == engine]
                last = [r[key] for run in runs if run["label"] == label and run["arrangement"].startswith("grouped")
                        for r in run["rounds"] if r["engine"] == engine and ARRANGEMENTS[run["arrangement"]][1][0] != engine]
                cells.append(f"{statistics.median(first) / statistics.median(last):.3f}" if first and last else "-")
            lines.append(f"| {engine} | {label} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("run", help="run every arrangement --repeats times, in rotation, then print the report")
    make.add_argument("--repeats", type=int, default=2)
    make.add_argument("--rounds", type=int, default=12)
    make.add_argument("--label", required=True, help="how the machine was, e.g. quiet or loaded")
    make.add_argument("pytest_args", nargs="*", help="more pytest options, after --")
    shown = sub.add_parser("report", help="print the tables of the runs under results/order_effect (or --pool DIR)")
    shown.add_argument("--pool", type=Path, default=POOL,
                       help="a folder of runs, e.g. tools/data/order_effect (the runs docs/performance.md quotes)")
    args = parser.parse_args(argv)
    if args.command == "run":
        names = list(ARRANGEMENTS)
        for repeat in range(args.repeats):
            for name in (names if repeat % 2 == 0 else list(reversed(names))):
                run_once(name, args.rounds, args.label, args.pytest_args)
    print(report(args.pool if args.command == "report" else POOL))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
