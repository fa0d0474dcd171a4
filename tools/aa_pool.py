"""The A/A check pooled over several runs (GitHub issue 23): is this setup fair to both arms of an A/B gate?

One run of `--kokoro-ab-baseline=same` gives the interval of the bias between two identical arms from its own pairs
(docs/gates.md); at this VM's per-pair spread one run of 32 pairs cannot rule out a bias of 3-5%. This tool runs the
real suite several times at the recommended gate configuration (`--kokoro-gate rtf=5%,ttfa=10%`, A/B, the `short`
text), with `--kokoro-ab-first` swapped in every other run (so the arm whose harness starts and cold-loads first is
the baseline in half of the runs and the candidate in the other half), records the machine's load before and after
each run, and pools every pair of every run:

    .venv/bin/python tools/aa_pool.py run --runs 4 --rounds 32 --label quiet     # appends to results/aa_pool/
    .venv/bin/python tools/aa_pool.py report                                     # the tables, from the files
    .venv/bin/python tools/aa_pool.py report --pool tools/data/aa_pool          # the runs docs/gates.md quotes

A pair is the baseline arm's round r and the candidate's round r of the same case, measured back to back. A pair
with a round the gates leave out (core/schema.py gate_exclusions) is left out here too, as the gate does. The
report gives, per label (loaded, quiet), per first arm and pooled, the median of the per-pair ratios
candidate/baseline with the sign test's 95% interval (gates/statistics.py median_ratio_interval), for TTFA and RTF.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_kokoro.core.schema import gate_pairs  # noqa: E402
from pytest_kokoro.gates.statistics import median_ratio_interval  # noqa: E402
from tools.suite_runs import load_runs, results_rows, run_suite  # noqa: E402

POOL = ROOT / "results" / "aa_pool"
GATE = "rtf=5%,ttfa=10%"
KEYS = (("TTFA", "time_to_first_audio"), ("RTF", "real_time_factor"))


def run_once(index: int, rounds: int, label: str, first: str, extra: list[str]) -> dict[str, Any]:
    folder = POOL / f"{datetime.now().strftime('%Y%m%d_%H%M%S')}_{label}_{first}"
    run = run_suite(folder, [f"--kokoro-rounds={rounds}", "--kokoro-ab-baseline=same", f"--kokoro-ab-first={first}",
                             f"--kokoro-gate={GATE}", *extra],
                    {"folder": folder.name, "label": label, "first": first}, "aa_run.json")
    print(f"run {index + 1}: {label}, {first} first, exit {run['exit']}, {run['seconds']} s, load "
          f"{run['load_before']:.1f} -> {run['load_after']:.1f}", file=sys.stderr, flush=True)
    return run


def pairs_of(folder: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(baseline, candidate) rounds of one run, matched by case and round; pairs the gates would skip left out."""
    rounds = results_rows(folder)
    baseline = {(r["case"], r["round"]): r for r in rounds if r.get("arm") == "baseline"}
    candidate = {(r["case"], r["round"]): r for r in rounds if r.get("arm") in (None, "candidate")}
    matched = sorted(baseline.keys() & candidate.keys())
    return gate_pairs([baseline[k] for k in matched], [candidate[k] for k in matched])


def interval_cell(pairs: list[tuple[dict[str, Any], dict[str, Any]]], key: str) -> str:
    if not pairs:
        return "-"
    ratio, low, high = median_ratio_interval([b[key] for b, _ in pairs], [c[key] for _, c in pairs])
    inside = "inside" if 0.97 <= low and high <= 1.03 else "NOT inside"
    return f"{ratio:.3f} [{low:.3f}, {high:.3f}] ({inside} [0.97, 1.03])"


def report(pool: Path = POOL) -> str:
    runs = [{**run, "pairs": pairs_of(folder)} for run, folder in load_runs(pool, "aa_run.json")]
    if not runs:
        return f"no A/A runs under {pool}; make some with: .venv/bin/python tools/aa_pool.py run"
    lines = ["| run | label | first arm | load before → after | pairs | TTFA ratio [95%] | RTF ratio [95%] |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for run in runs:
        lines.append(f"| {run['folder']} | {run['label']} | {run['first']} | {run['load_before']:.1f} → "
                     f"{run['load_after']:.1f} | {len(run['pairs'])} | "
                     + " | ".join(interval_cell(run["pairs"], key) for _, key in KEYS) + " |")
    lines += ["", "| pooled | runs | pairs | TTFA: median per-pair ratio [95%] | RTF: median per-pair ratio [95%] |",
              "| --- | --- | --- | --- | --- |"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault(f"{run['label']}", []).append(run)
        groups.setdefault(f"{run['first']} first", []).append(run)
        groups.setdefault("all", []).append(run)
    for name, members in groups.items():
        pooled = [p for run in members for p in run["pairs"]]
        lines.append(f"| {name} | {len(members)} | {len(pooled)} | "
                     + " | ".join(interval_cell(pooled, key) for _, key in KEYS) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("run", help="run A/A runs, --kokoro-ab-first alternating, and print the pooled report")
    make.add_argument("--runs", type=int, default=4)
    make.add_argument("--rounds", type=int, default=32)
    make.add_argument("--label", required=True, help="how the machine was, e.g. quiet or loaded")
    make.add_argument("--first", choices=("baseline", "candidate"), default="baseline",
                      help="the first run's first arm; the runs after it alternate")
    make.add_argument("pytest_args", nargs="*", help="more pytest options, after --")
    shown = sub.add_parser("report", help="print the tables of the runs under results/aa_pool (or --pool DIR)")
    shown.add_argument("--pool", type=Path, default=POOL,
                       help="a folder of runs, e.g. tools/data/aa_pool (the runs docs/gates.md quotes, their rounds "
                            "cut to the keys the report reads)")
    args = parser.parse_args(argv)
    if args.command == "run":
        order = ("baseline", "candidate") if args.first == "baseline" else ("candidate", "baseline")
        for index in range(args.runs):
            run_once(index, args.rounds, args.label, order[index % 2], args.pytest_args)
    print(report(args.pool if args.command == "report" else POOL))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
