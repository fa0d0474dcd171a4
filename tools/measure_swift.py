"""Swift against Python on the same engine build, and against the onnxruntime host engine (GitHub issue 10).

Run from the project root (after ./scripts/bootstrap and `cd ios-harness && swift build -c release`):

    .venv/bin/python tools/measure_swift.py [--rounds 7] [--texts default,paragraph] [--arms swift-sherpa,python-sherpa]

GitHub issue 24 (Swift slower than Python on texts of short sentences): `--texts default,paragraph,
tools/texts/short_sentences.txt --arms swift-sherpa,python-sherpa` puts the two harnesses on the same engine side by
side on texts of one-word and short sentences; besides the tables below it prints, per text, each chunk's own
time (its `t` minus the previous chunk's) for both arms and their ratio, and the Swift/Python RTF ratio round by
round (drift within a harness process shows as a trend there). tools/chunk_instructions.py counts the instructions
each harness spends per chunk outside the engine call (load-independent).

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


def arm_order(arms: tuple[str, ...], r: int) -> tuple[str, ...]:
    """Round r's order: rotated by one each round, so each arm goes first as often as the others."""
    k = r % len(arms)
    return arms[k:] + arms[:k]


def start(arm: str, logs: Path):
    if arm == "swift-sherpa":
        device = swift_device(logs, engine="sherpa-onnx")
    else:
        device = host_device(logs, {}, None, engine="sherpa-onnx" if arm == "python-sherpa" else "onnxruntime")
    client = device.start(600.0)
    client.load(VARIANT)
    return device, client


def process_schedstat(pid: int) -> tuple[float, float] | None:
    """(seconds on a CPU, seconds waiting for one) summed over the process's threads (Linux /proc/PID/task/*/
    schedstat, nanoseconds); None where there is no such file. CPU seconds count the work a harness did, whatever
    the machine's load; waiting seconds count what the load took from it."""
    tasks = Path(f"/proc/{pid}/task")
    if not tasks.is_dir():
        return None
    on_cpu = waiting = 0
    for task in tasks.iterdir():
        try:
            fields = (task / "schedstat").read_text().split()
        except OSError:
            continue  # a thread that ended in between
        on_cpu += int(fields[0])
        waiting += int(fields[1])
    return on_cpu / 1e9, waiting / 1e9


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
    parser.add_argument("--arms", default=",".join(ARMS), help=f"a comma-separated subset of {','.join(ARMS)}")
    parser.add_argument("--restart", action="store_true",
                        help="new harness processes every round, so that the rounds sample how one process of a "
                             "harness differs from the next instead of keeping one process of each for the whole run")
    parser.add_argument("--report", type=Path, help="print the tables of an earlier run's JSON and exit")
    parser.add_argument("--pool", type=Path, nargs="+", metavar="JSON",
                        help="pool the rounds of earlier runs' JSON files: per text, the median per-round ratio "
                             "Swift / Python with its 95%% interval, then exit")
    args = parser.parse_args(argv)
    if args.report:
        print(report_file(args.report))
        return 0
    if args.pool:
        print(pooled(args.pool))
        return 0
    arms = tuple(a for a in args.arms.split(",") if a)
    unknown = [a for a in arms if a not in ARMS]
    if unknown or not arms:
        parser.error(f"--arms: {','.join(unknown) or 'nothing'} is not among {','.join(ARMS)}")
    texts = resolve_texts(args.texts.split(","))
    logs = ROOT / "results"
    load = {"start": uptime()}
    harnesses = {arm: start(arm, logs) for arm in arms}
    hello = {arm: client.hello for arm, (_, client) in harnesses.items()}
    results: dict[str, dict[str, list[dict[str, Any]]]] = {t: {a: [] for a in arms} for t in texts}
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    out = ROOT / "results" / f"swift_performance_{stamp}.json"
    try:
        for r in range(args.rounds):
            if args.restart and r > 0:
                for arm in arms:
                    device, client = harnesses.pop(arm)
                    client.shutdown()
                    device.stop()
                    harnesses[arm] = start(arm, logs)
            order = arm_order(arms, r)
            for text_id, text in texts.items():
                for arm in order:
                    pid = harnesses[arm][0]._process.pid
                    before = process_schedstat(pid)
                    outcome = harnesses[arm][1].run(text=text, voice=VOICE, variant=VARIANT, speed=1.0, warmup=True,
                                                    send_audio=False, round_index=r, timeout=900.0)
                    after = process_schedstat(pid)
                    sched = {}
                    if before and after:  # the whole request: warm-up, calibration and the timed chunks
                        sched = {"process_cpu_s": after[0] - before[0], "process_wait_s": after[1] - before[1]}
                    results[text_id][arm].append({**outcome.result, "chunk_samples": outcome.chunk_samples, **sched})
            load["end"] = uptime()
            out.write_text(json.dumps({"load": load, "hello": hello, "rounds": r + 1, "results": results}, indent=1))
            print(f"round {r + 1}/{args.rounds} done; {load['end']}", file=sys.stderr, flush=True)
    finally:
        for device, client in harnesses.values():
            client.shutdown()
            device.stop()
    print(report(results, hello, load, out))
    return 0


def pooled(paths: list[Path]) -> str:
    """Swift / Python over the rounds of several runs: per text and metric, the median of the per-round ratios and
    the sign test's 95% interval (gates/statistics.py, the A/A check's statistic)."""
    from pytest_kokoro.gates.statistics import median_ratio_interval

    runs = [json.loads(p.read_text())["results"] for p in paths]
    lines = [f"Pooled: {', '.join(str(p) for p in paths)}", "",
             "| text | pairs | TTFA: median per-round ratio [95%] | RTF: median per-round ratio [95%] |",
             "| --- | --- | --- | --- |"]
    for text_id in runs[0]:
        cells = []
        for key in ("time_to_first_audio", "real_time_factor"):
            python = [r[key] for run in runs for r in run[text_id]["python-sherpa"]]
            swift = [r[key] for run in runs for r in run[text_id]["swift-sherpa"]]
            ratio, low, high = median_ratio_interval(python, swift)
            cells.append(f"{ratio:.3f} [{low:.3f}, {high:.3f}]")
        lines.append(f"| {text_id} | {len(python)} | {' | '.join(cells)} |")
    return "\n".join(lines)


def report(results, hello, load, path: Path) -> str:
    arms = [a for a in ARMS if a in hello]
    lines = [f"Machine load: start `{load['start']}`; end `{load['end']}`.", ""]
    for arm in arms:
        lines.append(f"- {arm}: {hello[arm]['harness']} {hello[arm]['engine']} ({hello[arm]['engine_version']})")
    lines += ["", "| text | arm | chunks | samples | TTFA s median (min-max) | RTF median (min-max) | peak GiB (median) | "
              "process CPU s per request (median) | waiting for a CPU s (median) |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for text_id, arms in results.items():
        for arm, rs in arms.items():
            ttfa = [r["time_to_first_audio"] for r in rs]
            rtf = [r["real_time_factor"] for r in rs]
            lines.append(f"| {text_id} | {arm} | {sorted({r['chunk_count'] for r in rs})} | "
                         f"{sorted({r['samples'] for r in rs})} | {median(ttfa):.3f} ({min(ttfa):.3f}-{max(ttfa):.3f}) | "
                         f"{median(rtf):.3f} ({min(rtf):.3f}-{max(rtf):.3f}) | "
                         f"{median([r['peak_memory_gb'] for r in rs]):.3f} | {cpu_cell(rs, 'process_cpu_s')} | "
                         f"{cpu_cell(rs, 'process_wait_s')} |")
    lines += ["", "| text | ratio | TTFA: ratio of medians | TTFA: median paired ratio | RTF: ratio of medians | "
              "RTF: median paired ratio |", "| --- | --- | --- | --- | --- | --- |"]
    for text_id, arms in results.items():
        for a, b in (("swift-sherpa", "python-sherpa"), ("swift-sherpa", "python-ort"), ("python-sherpa", "python-ort")):
            if a not in arms or b not in arms:
                continue
            row = [f"| {text_id} | {a} / {b}"]
            for key in ("time_to_first_audio", "real_time_factor"):
                x = [r[key] for r in arms[a]]
                y = [r[key] for r in arms[b]]
                row.append(f"{median(x) / median(y):.3f}")
                row.append(f"{median([p / q for p, q in zip(x, y)]):.3f}")
            lines.append(" | ".join(row) + " |")
    if "swift-sherpa" in arms and "python-sherpa" in arms:
        lines += ["", *chunk_table(results), "", *drift_table(results)]
    lines += ["", f"Every result: `{path.relative_to(ROOT)}`"]
    return "\n".join(lines)


def cpu_cell(rs: list[dict[str, Any]], key: str) -> str:
    values = [r[key] for r in rs if key in r]
    return f"{median(values):.3f}" if values else "-"


def chunk_seconds(result: dict[str, Any]) -> list[float]:
    """Each chunk's own time: its `t` minus the previous chunk's (per_sentence_inference)."""
    return list(result["per_sentence_inference"])


def chunk_table(results) -> list[str]:
    """Per text and chunk: the median of each chunk's own seconds, Swift and Python on sherpa, and their ratio."""
    lines = ["| text | chunk | samples | swift-sherpa s median | python-sherpa s median | Swift / Python |",
             "| --- | --- | --- | --- | --- | --- |"]
    for text_id, arms in results.items():
        swift, python = arms["swift-sherpa"], arms["python-sherpa"]
        counts = {len(r["per_sentence_inference"]) for r in swift + python}
        if len(counts) != 1:
            lines.append(f"| {text_id} | chunk counts differ: {sorted(counts)} | | | | |")
            continue
        for k in range(counts.pop()):
            s = median([chunk_seconds(r)[k] for r in swift])
            p = median([chunk_seconds(r)[k] for r in python])
            samples = sorted({r["chunk_samples"][k] for r in swift + python if "chunk_samples" in r}) or "-"
            lines.append(f"| {text_id} | {k} | {samples} | {s:.3f} | {p:.3f} | {s / p:.3f} |")
    return lines


def drift_table(results) -> list[str]:
    """Swift/Python RTF per round, per text: a harness that slows down within its process shows a rising row."""
    rounds = max(len(arms["swift-sherpa"]) for arms in results.values())
    lines = ["| text | " + " | ".join(f"round {r + 1}" for r in range(rounds)) + " |",
             "| --- |" + " --- |" * rounds]
    for text_id, arms in results.items():
        pairs = zip(arms["swift-sherpa"], arms["python-sherpa"])
        cells = [f"{s['real_time_factor'] / p['real_time_factor']:.3f}" for s, p in pairs]
        lines.append(f"| {text_id} (Swift / Python RTF) | " + " | ".join(cells) + " |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
