"""Swift against Python on the same engine build, and against the onnxruntime host engine (GitHub issue 10).

Run from the project root (after ./scripts/bootstrap and `cd ios-harness && swift build -c release`):

    .venv/bin/python tools/measure_swift.py [--rounds 7] [--texts default,paragraph]

Three harnesses, each started once, driven through pytest_kokoro.devices exactly as `pytest benchmarks/` drives them:

  swift-sherpa   the ios-harness CLI, --engine sherpa-onnx (KokoroSherpa over libsherpa-onnx-c-api)
  python-sherpa  python -m pytest_kokoro.harness --engine sherpa-onnx (ctypes over the very same library file)
  python-ort     python -m pytest_kokoro.harness (the onnxruntime Python package, 1.32.0)

Round r runs every text on every arm once, the arms in an order that rotates every round (A B C, B C A, C A B, ...),
so drift on a shared machine hits all arms and texts alike; the JSON is rewritten after every round. Every round
has the warm-up "Hi." before its clock starts (warmup=True). Prints Markdown (medians, min-max, the Swift/Python
ratios of medians and the median of per-round paired ratios) and writes results/swift_performance_*.json with
every result. docs/performance.md has the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_kokoro.core.texts import resolve_texts  # noqa: E402
from pytest_kokoro.devices.subprocess import host_device, swift_device  # noqa: E402

ARMS = ("swift-sherpa", "python-sherpa", "python-ort")
VOICE, VARIANT = "jf_alpha", "int8"


def start(arm: str, logs: Path):
    if arm == "swift-sherpa":
        device = swift_device(logs, engine="sherpa-onnx")
    else:
        device = host_device(logs, {}, None, engine="sherpa-onnx" if arm == "python-sherpa" else "onnxruntime")
    client = device.start(600.0)
    client.load(VARIANT)
    return device, client


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def median(values: list[float]) -> float:
    return statistics.median(values)


def report_file(path: Path) -> str:
    data = json.loads(path.read_text())
    return report(data["results"], data["hello"], data["load"], path.resolve())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--texts", default="default,paragraph")
    parser.add_argument("--report", type=Path, help="print the tables of an earlier run's JSON and exit")
    args = parser.parse_args(argv)
    if args.report:
        print(report_file(args.report))
        return 0
    texts = resolve_texts(args.texts.split(","))
    logs = ROOT / "results"
    load = {"start": uptime()}
    harnesses = {arm: start(arm, logs) for arm in ARMS}
    hello = {arm: client.hello for arm, (_, client) in harnesses.items()}
    results: dict[str, dict[str, list[dict[str, Any]]]] = {t: {a: [] for a in ARMS} for t in texts}
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    out = ROOT / "results" / f"swift_performance_{stamp}.json"
    try:
        for r in range(args.rounds):
            order = ARMS[r % 3:] + ARMS[:r % 3]
            for text_id, text in texts.items():
                for arm in order:
                    outcome = harnesses[arm][1].run(text=text, voice=VOICE, variant=VARIANT, speed=1.0, warmup=True,
                                                    send_audio=False, round_index=r, timeout=900.0)
                    results[text_id][arm].append(outcome.result)
            load["end"] = uptime()
            out.write_text(json.dumps({"load": load, "hello": hello, "rounds": r + 1, "results": results}, indent=1))
            print(f"round {r + 1}/{args.rounds} done; {load['end']}", file=sys.stderr, flush=True)
    finally:
        for device, client in harnesses.values():
            client.shutdown()
            device.stop()
    print(report(results, hello, load, out))
    return 0


def report(results, hello, load, path: Path) -> str:
    lines = [f"Machine load: start `{load['start']}`; end `{load['end']}`.", ""]
    for arm in ARMS:
        lines.append(f"- {arm}: {hello[arm]['harness']} {hello[arm]['engine']} ({hello[arm]['engine_version']})")
    lines += ["", "| text | arm | chunks | samples | TTFA s median (min-max) | RTF median (min-max) | peak GiB (median) |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for text_id, arms in results.items():
        for arm, rs in arms.items():
            ttfa = [r["time_to_first_audio"] for r in rs]
            rtf = [r["real_time_factor"] for r in rs]
            lines.append(f"| {text_id} | {arm} | {sorted({r['chunk_count'] for r in rs})} | "
                         f"{sorted({r['samples'] for r in rs})} | {median(ttfa):.3f} ({min(ttfa):.3f}-{max(ttfa):.3f}) | "
                         f"{median(rtf):.3f} ({min(rtf):.3f}-{max(rtf):.3f}) | "
                         f"{median([r['peak_memory_gb'] for r in rs]):.3f} |")
    lines += ["", "| text | ratio | TTFA: ratio of medians | TTFA: median paired ratio | RTF: ratio of medians | "
              "RTF: median paired ratio |", "| --- | --- | --- | --- | --- | --- |"]
    for text_id, arms in results.items():
        for a, b in (("swift-sherpa", "python-sherpa"), ("swift-sherpa", "python-ort"), ("python-sherpa", "python-ort")):
            row = [f"| {text_id} | {a} / {b}"]
            for key in ("time_to_first_audio", "real_time_factor"):
                x = [r[key] for r in arms[a]]
                y = [r[key] for r in arms[b]]
                row.append(f"{median(x) / median(y):.3f}")
                row.append(f"{median([p / q for p, q in zip(x, y)]):.3f}")
            lines.append(" | ".join(row) + " |")
    lines += ["", f"Every result: `{path.relative_to(ROOT)}`"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
