"""Instructions per chunk outside the engine call, Swift harness against Python harness (GitHub issue 24).

Run from the project root (after ./scripts/bootstrap and `cd ios-harness && swift build -c release`; needs
valgrind):

    .venv/bin/python tools/chunk_instructions.py --arms swift [--text "Yes. No."] [--keep DIR] [--swift-binary PATH]
    .venv/bin/python tools/chunk_instructions.py --cpu 3       # both harnesses, natively, CPU time between chunks
    .venv/bin/python tools/chunk_instructions.py --phonemize 100

Both harnesses run under `valgrind --tool=callgrind`, driven through pytest_kokoro.devices as `pytest benchmarks/`
drives them (hello, load, one run with its warm-up), on the same sherpa-onnx engine (libsherpa-onnx-c-api). Callgrind
dumps its counters right before and right after every SherpaOnnxOfflineTtsGenerateWithConfig call, one file per
thread, so the instructions fall into intervals:

  engine k   inside the k-th engine call (the warm-up is call 1, the timed chunks follow): the engine's own work
  between k  from the return of call k to the entry of call k+1: what the harness does per chunk in its timed window
             (sample copy, timestamp, chunk event, the loop, phonemizing the next chunk, building the config)

In the Python harness the trigger did not fire under valgrind 3.19 (the engine call comes through ctypes/libffi and
no dump was written), so `--cpu` below is the way to compare both harnesses; callgrind serves the Swift CLI.

Instruction counts do not depend on the machine's load, so this can run on a busy machine; wall-clock numbers can
not (tools/measure_swift.py, on a quiet machine). The run has no warm-up, so "between engine calls 1 and 2" is
exactly the harness's own work between two timed chunks; "before the first engine call" also holds the calibration
workload (before T1). Under valgrind a short chunk's engine call takes minutes, hence the two-chunk default text.

`--phonemize REPEATS` instead times phonemizing alone (CPU time, no valgrind). `--cpu ROUNDS` instead puts
tools/chunk_cpu/shim.c in front of the engine call of each harness, natively, and reports the calling thread's CPU
time between two timed chunks (the same intervals as "between engine calls" here, in CPU time, in a minute).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_kokoro.devices.subprocess import SubprocessDevice, host_device, swift_device  # noqa: E402

ENGINE_CALL = "SherpaOnnxOfflineTtsGenerateWithConfig"
DEFAULT_TEXT = "Yes. No."
VOICE, VARIANT = "jf_alpha", "int8"


def callgrind_prefix(out: Path) -> list[str]:
    # Not instrumented until the model is loaded (callgrind_control -i on, below): the load is no part of a chunk.
    return ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes", f"--dump-before={ENGINE_CALL}",
            f"--dump-after={ENGINE_CALL}", f"--callgrind-out-file={out}"]


def run_arm(arm: str, text: str, work: Path, swift_binary: Path | None = None) -> Path:
    logs = work / "logs"
    # Both harnesses' default engine threads: one per CPU (os.cpu_count() and activeProcessorCount).
    if arm == "swift":
        device = swift_device(logs, engine="sherpa-onnx")
        if swift_binary:  # another build of the CLI, e.g. the one before a change
            device.command[0] = str(swift_binary)
    else:
        device = host_device(logs, {}, None, engine="sherpa-onnx")
    out_dir = work / arm
    out_dir.mkdir(parents=True, exist_ok=True)
    wrapped = SubprocessDevice(f"{arm} (callgrind)", callgrind_prefix(out_dir / "cg.out") + device.command,
                               device.log_path, device.env, device.cwd)
    client = wrapped.start(3600.0)
    try:
        client.load(VARIANT)
        subprocess.run(["callgrind_control", "--instr=on", str(wrapped._process.pid)], check=True,
                       capture_output=True)
        # No warm-up: its engine call would only add an interval that holds the calibration workload too.
        outcome = client.run(text=text, voice=VOICE, variant=VARIANT, speed=1.0, warmup=False, send_audio=False,
                             timeout=7200.0)
        print(f"{arm}: {outcome.result['chunk_count']} chunks, {outcome.result['samples']} samples", file=sys.stderr)
    finally:
        client.shutdown(timeout=600.0)
        wrapped.stop()
    return out_dir


_DUMP = re.compile(r"cg\.out(?:\.(\d+))?-(\d+)$")  # cg.out.<dump>-<thread>; cg.out-<thread> is the final dump


def read_dump(path: Path) -> tuple[str, int]:
    """(trigger, instructions) of one per-thread callgrind dump."""
    trigger, total = "", 0
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("desc: Trigger:"):
            trigger = line.split(":", 2)[2].strip()
        elif line.startswith(("summary:", "totals:")):
            total = int(line.split()[1])
            break  # the costs follow; the header is all this needs
    return trigger, total


def intervals(out_dir: Path) -> list[dict]:
    """The dumps in order, each {"trigger", "threads": {thread: instructions}}. A trigger dumps the thread that hit
    it; the other threads (the engine's thread pool, the Swift harness's event queue) are dumped once, at exit."""
    dumps: dict[int, dict] = {}
    for path in out_dir.iterdir():
        m = _DUMP.match(path.name)
        if not m:
            continue
        number = int(m.group(1)) if m.group(1) else 10**9  # the final dump comes last
        trigger, total = read_dump(path)
        entry = dumps.setdefault(number, {"trigger": "", "threads": {}})
        entry["threads"][int(m.group(2))] = total
        entry["trigger"] = entry["trigger"] or trigger
    return [dumps[k] for k in sorted(dumps)]


def label(trigger: str, calls: int) -> tuple[str, int]:
    """What the interval that a dump closes was, and the number of engine calls finished after it."""
    if trigger.startswith("--dump-after"):
        return f"engine call {calls + 1}", calls + 1
    if trigger.startswith("--dump-before"):
        return ("before the first engine call" if calls == 0 else f"between engine calls {calls} and {calls + 1}"), calls
    return "after the last engine call", calls


def summarize(arm: str, out_dir: Path) -> list[str]:
    rows = []
    calls = 0
    for d in intervals(out_dir):
        kind, calls = label(d["trigger"], calls)
        main = d["threads"].get(1, 0)
        others = sum(total for thread, total in d["threads"].items() if thread != 1)
        rows.append(f"| {arm} | {kind} | {main:,} | {others:,} |")
    return rows


def phonemize_cost(texts: list[str], repeats: int) -> list[str]:
    """CPU microseconds per chunk for phonemizing alone: the Swift CLI's --tokens (KokoroPhonemizer, the code the
    sherpa engine runs per chunk) against the Python harness's SherpaKokoroEngine.phonemes, on the same espeak-ng.
    Process CPU time, so the load of the machine barely moves it."""
    import json
    import resource
    import time

    from pytest_kokoro.devices.subprocess import sherpa_setup, swift_harness_binary
    from pytest_kokoro.harness.sherpa_engine import SherpaKokoroEngine

    setup = sherpa_setup()
    command = [str(swift_harness_binary()), "--tokens", "--sherpa-model", setup["model_dir"], "--espeak-library",
               setup["espeak_library"], "--espeak-data", setup["espeak_data"]]

    def swift_cpu(lines: list[str]) -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, input="\n".join(json.dumps(t) for t in lines) + "\n", text=True, check=True,
                       capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    # The start (espeak-ng's data, the vocabulary) is paid once: the difference of a long and a one-line run.
    swift = (swift_cpu(texts * repeats) - swift_cpu(texts[:1])) / (len(texts) * repeats - 1)
    engine = SherpaKokoroEngine()
    engine.phonemes(texts[0], VOICE)
    started = time.process_time()
    for _ in range(repeats):
        for text in texts:
            engine.phonemes(text, VOICE)
    python = (time.process_time() - started) / (len(texts) * repeats)
    return ["| phonemizing one chunk | Swift (KokoroPhonemizer) | Python (kokoro-onnx Tokenizer) |", "| --- | --- | --- |",
            f"| CPU µs, mean over {len(texts) * repeats} chunks | {swift * 1e6:.0f} | {python * 1e6:.0f} |"]


CPU_TEXT = "Yes. No. Maybe. Fine. Wait. Go on."


def cpu_between_chunks(arm: str, text: str, rounds: int, work: Path, swift_binary: Path | None) -> dict[str, list[int]]:
    """Run `text` `rounds` times (with the warm-up) on one harness with tools/chunk_cpu/shim.so in front of the
    engine call; the thread CPU nanoseconds between two timed chunks and inside each timed engine call."""
    from pytest_kokoro.devices.subprocess import sherpa_setup

    shim_dir = Path(__file__).resolve().parent / "chunk_cpu"
    shim = work / "shim.so"
    if not shim.exists():
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(shim), str(shim_dir / "shim.c"), "-ldl"], check=True)
    library = next(Path(sherpa_setup()["sherpa_library_dir"]).glob("libsherpa-onnx-c-api.*"))
    out = work / f"{arm}.cpu"
    out.unlink(missing_ok=True)
    env = {"SHIM_SHERPA_LIB": str(library), "SHIM_OUT": str(out), "SHIM_SO": str(shim)}
    if arm == "swift":
        device = swift_device(work / "logs", engine="sherpa-onnx")
        if swift_binary:
            device.command[0] = str(swift_binary)
        env["LD_PRELOAD"] = str(shim)
    else:
        device = host_device(work / "logs", {}, None, engine="sherpa-onnx")
        device.command[1:3] = [str(shim_dir / "python_harness.py")]  # -m pytest_kokoro.harness, with the shim
    device.env.update(env)
    client = device.start(600.0)
    chunks = 0
    marks = []
    try:
        client.load(VARIANT)
        for r in range(rounds):
            marks.append(len(out.read_text().splitlines()) if out.exists() else 0)
            result = client.run(text=text, voice=VOICE, variant=VARIANT, speed=1.0, warmup=True, send_audio=False,
                                round_index=r, timeout=900.0).result
            chunks = result["chunk_count"]
    finally:
        client.shutdown()
        device.stop()
    lines = out.read_text().splitlines()
    between: list[int] = []
    engine: list[int] = []
    for start, end in zip(marks, [*marks[1:], len(lines)]):
        rows = [line.split() for line in lines[start:end]]
        # Per round: the warm-up's call, the gap holding the calibration (before T1), then the timed chunks.
        between += [int(v) for k, v in rows if k == "between"][-(chunks - 1):] if chunks > 1 else []
        engine += [int(v) for k, v in rows if k == "engine"][-chunks:]
    return {"between": between, "engine": engine}


def cpu_table(measured: dict[str, dict[str, list[int]]]) -> list[str]:
    import statistics

    lines = ["| harness | CPU between two timed chunks, µs median (min-max, n) | engine call, main thread CPU ms median |",
             "| --- | --- | --- |"]
    for arm, m in measured.items():
        b = m["between"]
        lines.append(f"| {arm} | {statistics.median(b) / 1e3:.0f} ({min(b) / 1e3:.0f}-{max(b) / 1e3:.0f}, {len(b)}) | "
                     f"{statistics.median(m['engine']) / 1e6:.0f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text")
    parser.add_argument("--arms", default="swift,python")
    parser.add_argument("--phonemize", type=int, metavar="REPEATS",
                        help="instead: CPU time of phonemizing alone, Swift and Python, each sentence of --text REPEATS "
                             "times (no valgrind needed)")
    parser.add_argument("--cpu", type=int, metavar="ROUNDS",
                        help="instead: thread CPU time between two timed chunks, natively (no valgrind), ROUNDS runs "
                             f"of --text (default here {CPU_TEXT!r}) per harness; needs a C compiler (cc)")
    parser.add_argument("--swift-binary", type=Path, help="the Swift CLI to measure (default: this checkout's release "
                        "build)")
    parser.add_argument("--keep", type=Path, help="keep the callgrind files in this folder")
    parser.add_argument("--report", type=Path, help="summarize the callgrind files of an earlier --keep folder")
    args = parser.parse_args(argv)
    if args.cpu:
        work = args.keep or Path(tempfile.mkdtemp(prefix="chunk_cpu_"))
        work.mkdir(parents=True, exist_ok=True)
        text = args.text or CPU_TEXT
        measured = {arm: cpu_between_chunks(arm, text, args.cpu, work, args.swift_binary)
                    for arm in args.arms.split(",")}
        print(f"Text: {text!r}; voice {VOICE}, {VARIANT}; {args.cpu} rounds per harness, warm-up before each.\n")
        print("\n".join(cpu_table(measured)))
        return 0
    args.text = args.text or DEFAULT_TEXT
    if args.phonemize:
        sentences = [s.strip() + "." for s in args.text.split(".") if s.strip()]
        print("\n".join(phonemize_cost(sentences, args.phonemize)))
        return 0
    if shutil.which("valgrind") is None and not args.report:
        print("valgrind is needed: apt-get install -y valgrind", file=sys.stderr)
        return 2
    work = args.report or args.keep or Path(tempfile.mkdtemp(prefix="chunk_instructions_"))
    lines = [f"Text: {args.text!r}; voice {VOICE}, {VARIANT}, one engine thread per CPU; instructions "
             "(callgrind Ir).", "",
             "| arm | interval | main thread | other threads (all of the run, dumped at exit) |",
             "| --- | --- | --- | --- |"]
    for arm in args.arms.split(","):
        out_dir = work / arm if args.report else run_arm(arm, args.text, work, args.swift_binary)
        lines += summarize(arm, out_dir)
    print("\n".join(lines))
    print(f"\ncallgrind files: {work}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
