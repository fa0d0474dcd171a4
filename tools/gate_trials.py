"""Gate trials on this machine: does --kokoro-baseline fail on noise (A/A) and catch a real 20% slowdown?

For each try: record a baseline run, then a candidate run of the same code (A/A) and a candidate run with an
injected 20% engine slowdown (PYTEST_KOKORO_INJECT_SLOWDOWN=0.2, fault injection in the host harness), each
gated against the baseline. Prints one line per run and the counts; writes results/gate_trials.json.

    .venv/bin/python tools/gate_trials.py --tries 5 --rounds 7 --texts short
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


def pytest_run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "benchmarks/test_kokoro.py", "-p", "no:cacheprovider",
                           "-q", *args], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env})
    return done.returncode, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--texts", default="short")
    parser.add_argument("--slowdown", type=float, default=0.2)
    args = parser.parse_args()
    store = tempfile.mkdtemp(prefix="kokoro-gate-trials-")
    common = ["--kokoro-rounds", str(args.rounds), "--kokoro-texts", args.texts, "--kokoro-baselines-dir", store,
              "--kokoro-results-dir", str(ROOT / "results" / "gate-trials")]
    trials = []
    for attempt in range(args.tries):
        name = f"try{attempt}"
        code, _ = pytest_run([*common, "--kokoro-save-baseline", name], {})
        assert code == 0, f"baseline run {attempt} failed"
        for label, env in (("A/A", {}), (f"+{args.slowdown:.0%}", {"PYTEST_KOKORO_INJECT_SLOWDOWN": str(args.slowdown)})):
            code, out = pytest_run([*common, "--kokoro-baseline", name], env)
            gates = [line for line in out.splitlines() if line.startswith("gate ") or "regressed" in line]
            trials.append({"try": attempt, "kind": label, "failed": code != 0, "gates": gates})
            print(f"try {attempt} {label:>5}: {'FAILED' if code else 'passed'}")
            for line in gates:
                print("   ", line)
    summary = {kind: sum(t["failed"] for t in trials if t["kind"] == kind) for kind in dict.fromkeys(t["kind"] for t in trials)}
    print("failures per kind (of", args.tries, "tries):", summary)
    out = ROOT / "results" / "gate_trials.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "trials": trials, "failures": summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
