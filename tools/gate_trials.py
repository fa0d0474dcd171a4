"""Gate trials on this machine: does --kokoro-baseline fail on noise (A/A) and catch a real 20% slowdown?

Two modes. ``stored``: each try records a baseline run (--kokoro-save-baseline), then gates two candidate runs
against it (--kokoro-baseline). ``ab``: each run carries its own baseline arm (--kokoro-ab-baseline, a second host
harness whose rounds alternate with the candidate's). In both, one candidate is the same code (A/A) and one has
the engine made 20% slower (PYTEST_KOKORO_INJECT_SLOWDOWN=0.2, fault injection in the host harness; the A/B
baseline arm is started without it). Prints one line per run and the counts; writes results/gate_trials_MODE.json.

    .venv/bin/python tools/gate_trials.py --mode ab --tries 10 --rounds 12 --texts short
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_kokoro.gates.statistics import clopper_pearson  # noqa: E402  (a tool run from the checkout)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def pytest_run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "benchmarks/test_kokoro.py", "-p", "no:cacheprovider",
                           "-q", *args], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env})
    return done.returncode, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--texts", default="short")
    parser.add_argument("--slowdown", type=float, default=0.2)
    parser.add_argument("--mode", choices=["stored", "ab"], default="stored")
    parser.add_argument("--gate", default=None, help="passed as --kokoro-gate (default: the plugin's default gate)")
    args = parser.parse_args()
    store = tempfile.mkdtemp(prefix="kokoro-gate-trials-")
    common = ["--kokoro-rounds", str(args.rounds), "--kokoro-texts", args.texts, "--kokoro-baselines-dir", store,
              "--kokoro-results-dir", str(ROOT / "results" / "gate-trials"),
              *(["--kokoro-gate", args.gate] if args.gate else [])]
    trials = []
    baseline_harness = f"env -u PYTEST_KOKORO_INJECT_SLOWDOWN {sys.executable} -m pytest_kokoro.harness"
    for attempt in range(args.tries):
        name = f"try{attempt}"
        if args.mode == "stored":
            code, _ = pytest_run([*common, "--kokoro-save-baseline", name], {})
            assert code == 0, f"baseline run {attempt} failed"
            gate = ["--kokoro-baseline", name]
        else:
            gate = ["--kokoro-ab-baseline", baseline_harness]
        for label, env in (("A/A", {}), (f"+{args.slowdown:.0%}", {"PYTEST_KOKORO_INJECT_SLOWDOWN": str(args.slowdown)})):
            code, out = pytest_run([*common, *gate], env)
            gates = [line for line in out.splitlines() if line.startswith("gate ") or "regressed" in line]
            trials.append({"try": attempt, "kind": label, "failed": code != 0, "gates": gates, "uptime": uptime(),
                           "tail": out[-2000:] if code else ""})
            print(f"try {attempt} {label:>5}: {'FAILED' if code else 'passed'}   ({trials[-1]['uptime']})", flush=True)
            for line in gates:
                print("   ", line)
    summary = {kind: sum(t["failed"] for t in trials if t["kind"] == kind) for kind in dict.fromkeys(t["kind"] for t in trials)}
    print("failures per kind (of", args.tries, "tries):", summary)
    print("95% Clopper-Pearson:", {kind: [round(x, 3) for x in clopper_pearson(n, args.tries)]
                                   for kind, n in summary.items()})
    out = ROOT / "results" / f"gate_trials_{args.mode}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "trials": trials, "failures": summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
