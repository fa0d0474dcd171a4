"""Error rates of the regression gates, by resampling real rounds (docs/gates.md "Measured error rates").

Reads rounds recorded by tools/record_rounds.py (two identical arms of the real host harness, interleaved) and
simulates many gate decisions with the statistics a run uses (pytest_kokoro/gates/statistics.py), at the default
gate (rtf=10%, ttfa=15%, alpha=0.01: one case, two metrics, one Holm family) and its re-check:

- ``ab``: n pairs drawn without replacement from the recorded pairs (round i of both arms, back to back); one arm,
  chosen at random, is the candidate. The re-check draws n other pairs.
- ``stored``: the baseline is n rounds of one arm, the candidate n rounds of the other, each drawn without
  replacement from the whole recording; the re-check draws n other candidate rounds against the same baseline.
  Values are divided by their round's calibration time, as the stored-baseline gate does.

A slowdown s multiplies the candidate's RTF and TTFA by 1 + s (what PYTEST_KOKORO_INJECT_SLOWDOWN does to the
engine). A simulated run fails when Holm rejects a metric whose p is the larger of its two measurements' p-values.
Prints a markdown table with 95% Clopper-Pearson intervals and writes the numbers as JSON.

    .venv/bin/python tools/gate_simulation.py tools/data/host_rounds.json --simulations 5000 \\
        --rounds 6,8,10,12,15,20 --out tools/data/gate_simulation.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_kokoro.gates.spec import parse_gate_spec  # noqa: E402
from pytest_kokoro.gates.statistics import both_measurements, clopper_pearson, holm_batch, paired_p, unpaired_p  # noqa: E402

THRESHOLDS = {"rtf": 0.10, "ttfa": 0.15}  # the default gate; --gate changes it
ALPHA = 0.01
SLOWDOWNS = (0.0, 0.05, 0.10, 0.15, 0.20, 0.30)


def load_arms(path: Path) -> tuple[dict, dict[str, dict[str, np.ndarray]]]:
    """meta, and arm -> metric -> values by pair index (only pairs where both arms have a round)."""
    data = json.loads(path.read_text())
    by_pair: dict[int, dict[str, dict]] = {}
    for row in data["rounds"]:
        by_pair.setdefault(row["pair"], {})[row["arm"]] = row
    pairs = sorted(p for p, arms in by_pair.items() if set(arms) == {"A", "B"})
    arms = {arm: {metric: np.array([by_pair[p][arm][metric] for p in pairs], dtype=float)
                  for metric in (*THRESHOLDS, "calibration")} for arm in ("A", "B")}
    return data["meta"], arms


def draws(rng: np.random.Generator, simulations: int, population: int, count: int) -> np.ndarray:
    """``simulations`` rows of ``count`` distinct indices below ``population``."""
    if count > population:
        raise SystemExit(f"{count} rounds per simulated run need at least that many recorded pairs, have {population}")
    return np.argsort(rng.random((simulations, population)), axis=1)[:, :count]


def simulate(arms, mode: str, rounds: int, slowdown: float, simulations: int, rng: np.random.Generator) -> int:
    """How many of ``simulations`` simulated runs fail the gate."""
    population = len(arms["A"]["rtf"])
    flip = rng.random(simulations) < 0.5  # True: arm B is the candidate
    rejected = []
    if mode == "ab":
        picks = draws(rng, simulations, population, 2 * rounds)
        first, second = picks[:, :rounds], picks[:, rounds:]
        for metric, threshold in THRESHOLDS.items():
            a, b = arms["A"][metric], arms["B"][metric]

            def p_of(index: np.ndarray) -> np.ndarray:
                candidate = np.where(flip[:, None], b[index], a[index]) * (1 + slowdown)
                baseline = np.where(flip[:, None], a[index], b[index])
                return paired_p(candidate, baseline, threshold)

            rejected.append(both_measurements(p_of(first), p_of(second)))
    else:
        base_pick = draws(rng, simulations, population, rounds)
        cand_pick = draws(rng, simulations, population, 2 * rounds)
        for metric, threshold in THRESHOLDS.items():
            a = arms["A"][metric] / arms["A"]["calibration"]
            b = arms["B"][metric] / arms["B"]["calibration"]
            baseline = np.where(flip[:, None], a[base_pick], b[base_pick])

            def p_of(index: np.ndarray) -> np.ndarray:
                return unpaired_p(np.where(flip[:, None], b[index], a[index]) * (1 + slowdown), baseline, threshold)

            rejected.append(both_measurements(p_of(cand_pick[:, :rounds]), p_of(cand_pick[:, rounds:])))
    family = np.stack(rejected, axis=-1)
    return int(holm_batch(family, ALPHA).any(axis=-1).sum())


def windows(arms, rounds: int) -> tuple[int, int]:
    """Real A/B trials, not resampled: the recording cut into consecutive windows of 2 × ``rounds`` pairs in time
    order (the first half measured, the second its re-check), arm B the candidate as recorded. (failed, trials)."""
    trials = len(arms["A"]["rtf"]) // (2 * rounds)
    if trials == 0:
        return 0, 0
    rejected = []
    for metric, threshold in THRESHOLDS.items():
        a = arms["A"][metric][: trials * 2 * rounds].reshape(trials, 2, rounds)
        b = arms["B"][metric][: trials * 2 * rounds].reshape(trials, 2, rounds)
        rejected.append(both_measurements(paired_p(b[:, 0], a[:, 0], threshold), paired_p(b[:, 1], a[:, 1], threshold)))
    return int(holm_batch(np.stack(rejected, axis=-1), ALPHA).any(axis=-1).sum()), trials


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--simulations", type=int, default=5000)
    parser.add_argument("--rounds", default="6,8,10,12,15,20")
    parser.add_argument("--modes", default="ab,stored")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--gate", default="rtf=10%,ttfa=15%,alpha=0.01", help="as --kokoro-gate")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    global THRESHOLDS, ALPHA
    spec = parse_gate_spec(args.gate)
    THRESHOLDS, ALPHA = spec.thresholds, spec.alpha
    meta, arms = load_arms(args.data)
    rng = np.random.default_rng(args.seed)
    rows = []
    started = time.perf_counter()
    print(f"{len(arms['A']['rtf'])} recorded pairs of {meta['text_id']!r}, {meta['variant']}/{meta['voice']}; "
          f"{args.simulations} simulated runs per cell; gate {spec} (one case: Holm over {len(THRESHOLDS)}) with "
          "re-check\n")
    for metric in THRESHOLDS:
        spread = np.std(np.log(arms["B"][metric] / arms["A"][metric]), ddof=1)
        print(f"{metric}: the log-ratio of a pair's two arms scatters with standard deviation {spread:.3f}")
    print()
    print("| gate | rounds | " + " | ".join("A/A false alarms" if s == 0 else f"+{s:.0%} caught" for s in SLOWDOWNS)
          + " |")
    print("| --- | --- |" + " --- |" * len(SLOWDOWNS))
    for mode in args.modes.split(","):
        for rounds in (int(r) for r in args.rounds.split(",")):
            cells = []
            for slowdown in SLOWDOWNS:
                failed = simulate(arms, mode, rounds, slowdown, args.simulations, rng)
                low, high = clopper_pearson(failed, args.simulations)
                rows.append({"mode": mode, "rounds": rounds, "slowdown": slowdown, "failed": failed,
                             "simulations": args.simulations, "rate": failed / args.simulations,
                             "ci95": [low, high]})
                cells.append(f"{failed / args.simulations:.1%} [{low:.1%}, {high:.1%}]")
            print(f"| {'A/B paired' if mode == 'ab' else 'stored, calibrated'} | {rounds} | " + " | ".join(cells)
                  + " |", flush=True)
    print(f"\nreal A/B trials in time order (consecutive windows, arm B = the candidate, slowdown as recorded: "
          f"{meta.get('slowdown_b', 0):.0%}):")
    for rounds in (int(r) for r in args.rounds.split(",")):
        failed, trials = windows(arms, rounds)
        if trials:
            rows.append({"mode": "ab-windows", "rounds": rounds, "slowdown": meta.get("slowdown_b", 0),
                         "failed": failed, "trials": trials})
            print(f"  {rounds} rounds: {failed} of {trials} failed")
    print(f"\n{time.perf_counter() - started:.0f} s")
    if args.out:
        args.out.write_text(json.dumps({"data": str(args.data), "meta": meta, "args": vars(args) | {
            "data": str(args.data), "out": str(args.out)}, "thresholds": THRESHOLDS, "alpha": ALPHA,
            "cells": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
