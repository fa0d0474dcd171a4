"""How much does the host harness cost on top of the model? A side-by-side measurement (GitHub issue 2).

Run from the project root:  .venv/bin/python tools/measure_host.py [--rounds 7] [--repeats 2]

In one process, round by round and interleaved (A B C D A B C D ...) so that drift on a shared machine hits every
method alike, on kokoro_benchmark.py's default text, voice jf_alpha, the int8 model, speed 1.0:

  A  harness        a real ``python -m pytest_kokoro.harness`` subprocess driven through pytest_kokoro.devices.client;
                    TTFA / inference_time / RTF are the ones its ``done`` event reports (warmup=True)
  B  bare loop      a fresh onnxruntime.InferenceSession on the same file and providers, over the same
                    split_sentences chunks, timing exactly what the harness times: phonemize + tokenize + run per chunk
  C  create_stream  kokoro-onnx's own Kokoro.create_stream (one process-local Kokoro on the same model file and
                    voice pack); TTFA = call to first yielded chunk, inference = call to end of the stream
  D  create         kokoro-onnx's Kokoro.create (not streaming: TTFA = the whole call)

Every method gets one untimed warm-up call first, and, like the harness with warmup=True, an untimed "Hi." right
before each timed round (``--rotate`` alternates who goes first, to rule out an order effect). Then, per
repetition, the wall time of ``pytest <target> -p no:cacheprovider --kokoro-rounds 5`` for ``benchmarks/`` (which
includes the fuzz test) and ``benchmarks/test_kokoro.py`` (the streaming benchmark alone), against what its results
file accounts for. The whole thing runs ``--repeats`` times. Prints Markdown and writes
results/host_performance_*.json. docs/performance.md has the numbers.

``--strategies`` measures the split strategies instead (GitHub issue 11): the harness once per strategy of
``--kokoro-split`` (sentences, clauses, adaptive, whole) and kokoro-onnx's create_stream, interleaved with the order
rotating every round, on the default and paragraph texts; with the playback keys (stalls, gapless start) of every
harness round. Then the fixed cost of one model call: the bare loop on prefixes of the paragraph text of 1 to 64
words, interleaved, and a least-squares line through (phoneme tokens, seconds): its intercept is the cost of a call
that synthesizes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_kokoro.core.sentences import SPLIT_STRATEGIES, split_sentences  # noqa: E402
from pytest_kokoro.core.texts import BUILTIN_TEXTS, REFERENCE_DEFAULT_TEXT  # noqa: E402
from pytest_kokoro.devices.subprocess import host_device  # noqa: E402
from pytest_kokoro.harness import model_files  # noqa: E402

SAMPLE_RATE = 24000
VOICE = "jf_alpha"
VARIANT = "int8"
SPEED = 1.0
LANG = "en-us"
WARMUP_TEXT = "Hi."
PROVIDERS = ["CPUExecutionProvider"]  # what OnnxKokoroEngine.load passes
METHODS = ("harness", "bare", "create_stream", "create")


# ---------------------------------------------------------------- the four methods, one timed round each

class HarnessMethod:
    """A: the real harness subprocess; the numbers are the ones its done event carries."""

    def __init__(self, logs: Path, timeout: float = 300.0):
        self.device = host_device(logs, {}, None)
        started = time.perf_counter()
        self.client = self.device.start(timeout)  # spawn + imports + hello
        self.start_time = time.perf_counter() - started
        loaded = self.client.load(VARIANT)
        self.load_time = loaded["model_load_time"]

    def round(self, text: str, index: int, split: str = "sentences") -> dict[str, Any]:
        outcome = self.client.run(text=text, voice=VOICE, variant=VARIANT, speed=SPEED, warmup=True,
                                  send_audio=True, round_index=index, split=split)
        r = outcome.result
        return {"ttfa": r["time_to_first_audio"], "inference": r["inference_time"], "rtf": r["real_time_factor"],
                "audio": r["audio_duration"], "chunks": r["chunk_count"],
                "per_chunk": r["per_sentence_inference"], "host_wall_time": outcome.host_wall_time,
                "gapless_start": r["gapless_start_time"], "stall_count": r["stall_count"],
                "stall_time": r["playback_stall_time"], "chunk_samples": r["chunk_samples"],
                "chunk_texts": [c["text"] for c in outcome.chunks], "adaptive_pace": r["adaptive_pace"]}

    def close(self) -> None:
        self.client.shutdown()
        self.device.stop()


class BareLoop:
    """B: the harness's timed region without the harness: phonemize + tokenize + session.run per chunk."""

    def __init__(self, model: Path, voices: Path):
        import onnxruntime
        from kokoro_onnx.config import DEFAULT_VOCAB
        from kokoro_onnx.session import embedded_vocab
        from kokoro_onnx.tokenizer import Tokenizer

        self.session = onnxruntime.InferenceSession(str(model), providers=PROVIDERS)
        self.tokenizer = Tokenizer(vocab=embedded_vocab(self.session) or DEFAULT_VOCAB)
        self.voice = np.asarray(np.load(voices)[VOICE], dtype=np.float32)

    def _synthesize(self, text: str) -> np.ndarray:
        tokens = self.tokenizer.tokenize(self.tokenizer.phonemize(text, LANG), limit=None)
        style = self.voice[min(len(tokens), len(self.voice)) - 1]
        out = self.session.run(None, {"tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                                      "style": np.asarray(style, dtype=np.float32).reshape(1, -1),
                                      "speed": np.array([SPEED], dtype=np.float32)})
        return np.asarray(out[0], dtype=np.float32).ravel()

    def call_time(self, text: str) -> tuple[int, float]:
        """(phoneme tokens, seconds) of one model call on ``text``: phonemize + tokenize + run, as in a harness."""
        tokens = len(self.tokenizer.tokenize(self.tokenizer.phonemize(text, LANG), limit=None))
        start = time.perf_counter()
        self._synthesize(text)
        return tokens, time.perf_counter() - start

    def round(self, text: str, index: int) -> dict[str, Any]:
        chunks = split_sentences(text)  # before T1, as in the harness
        self._synthesize(WARMUP_TEXT)
        times, samples = [], 0
        start = time.perf_counter()
        for chunk in chunks:
            samples += self._synthesize(chunk).size
            times.append(time.perf_counter() - start)
        audio = samples / SAMPLE_RATE
        return {"ttfa": times[0], "inference": times[-1], "rtf": times[-1] / audio, "audio": audio,
                "chunks": len(chunks), "per_chunk": [b - a for a, b in zip([0.0, *times], times)]}


class KokoroOnnx:
    """C and D: kokoro-onnx's own API on the same model file and voice pack."""

    def __init__(self, model: Path, voices: Path):
        from kokoro_onnx import Kokoro

        self.kokoro = Kokoro(str(model), str(voices))
        self.providers = self.kokoro.sess.get_providers()
        self.loop = asyncio.new_event_loop()

    async def _stream(self, text: str) -> tuple[float, float, int, int]:
        start = time.perf_counter()
        first, samples, chunks = None, 0, 0
        async for audio, _ in self.kokoro.create_stream(text, VOICE, speed=SPEED, lang=LANG):
            if first is None:
                first = time.perf_counter() - start
            samples += audio.size
            chunks += 1
        return first, time.perf_counter() - start, samples, chunks

    def stream_round(self, text: str, index: int) -> dict[str, Any]:
        self.kokoro.create(WARMUP_TEXT, VOICE, speed=SPEED, lang=LANG)
        first, total, samples, chunks = self.loop.run_until_complete(self._stream(text))
        audio = samples / SAMPLE_RATE
        return {"ttfa": first, "inference": total, "rtf": total / audio, "audio": audio, "chunks": chunks}

    def create_round(self, text: str, index: int) -> dict[str, Any]:
        self.kokoro.create(WARMUP_TEXT, VOICE, speed=SPEED, lang=LANG)
        start = time.perf_counter()
        audio, _ = self.kokoro.create(text, VOICE, speed=SPEED, lang=LANG)
        total = time.perf_counter() - start
        seconds = audio.size / SAMPLE_RATE
        return {"ttfa": total, "inference": total, "rtf": total / seconds, "audio": seconds, "chunks": 1}

    def close(self) -> None:
        self.loop.close()


# ---------------------------------------------------------------- statistics

def stats(values: list[float]) -> dict[str, float]:
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else (values[0],) * 3
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "q1": q1, "q3": q3,
            "n": len(values)}


# ---------------------------------------------------------------- one repetition

def interleaved(text: str, rounds: int, logs: Path, methods: tuple[str, ...] = METHODS,
                rotate: bool = False) -> dict[str, Any]:
    model, voices = model_files.int8_model_path(), model_files.japanese_voice_pack()
    harness = HarnessMethod(logs)
    bare = BareLoop(model, voices)
    kokoro = KokoroOnnx(model, voices)
    run = {"harness": harness.round, "bare": bare.round, "create_stream": kokoro.stream_round,
           "create": kokoro.create_round}
    try:
        for name in methods:  # one untimed warm-up each
            run[name](text, 0)
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in methods}
        for index in range(rounds):
            # A B C D A B C D ...; with rotate, A B C D / B C D A / ... so no method always goes first
            order = methods[index % len(methods):] + methods[:index % len(methods)] if rotate else methods
            for name in order:
                rows[name].append(run[name](text, index))
            print(f"  round {index + 1}/{rounds}: " + ", ".join(
                f"{name} {rows[name][-1]['inference']:.3f} s" for name in order), file=sys.stderr, flush=True)
    finally:
        harness.close()
        kokoro.close()
    summary = {name: {key: stats([r[key] for r in rows[name]]) for key in ("ttfa", "inference", "rtf", "audio")}
               for name in methods}
    ratios = [h["inference"] / b["inference"] - 1 for h, b in zip(rows["harness"], rows["bare"])]
    ttfa_ratios = [h["ttfa"] / b["ttfa"] - 1 for h, b in zip(rows["harness"], rows["bare"])]
    return {"rounds": rows, "summary": summary, "harness_start_time": harness.start_time,
            "harness_load_time": harness.load_time, "kokoro_onnx_providers": kokoro.providers,
            "methods": list(methods), "rotate": rotate,
            "overhead": {"median_of_medians": summary["harness"]["inference"]["median"]
                         / summary["bare"]["inference"]["median"] - 1,
                         "paired_inference": stats(ratios), "paired_ttfa": stats(ttfa_ratios)}}


def strategies(texts: dict[str, str], rounds: int, logs: Path) -> dict[str, Any]:
    """Every split strategy through the real harness, and create_stream, interleaved with a rotating order."""
    model, voices = model_files.int8_model_path(), model_files.japanese_voice_pack()
    harness = HarnessMethod(logs)
    kokoro = KokoroOnnx(model, voices)
    methods = (*SPLIT_STRATEGIES, "create_stream")
    out: dict[str, Any] = {}
    try:
        for text_id, text in texts.items():
            run = {name: (lambda t, i, split=name: harness.round(t, i, split)) for name in SPLIT_STRATEGIES}
            run["create_stream"] = kokoro.stream_round
            for name in methods:  # one untimed warm-up each
                run[name](text, 0)
            rows: dict[str, list[dict[str, Any]]] = {name: [] for name in methods}
            for index in range(rounds):
                order = methods[index % len(methods):] + methods[:index % len(methods)]
                for name in order:
                    rows[name].append(run[name](text, index))
                print(f"  {text_id} round {index + 1}/{rounds}: " + ", ".join(
                    f"{name} {rows[name][-1]['ttfa']:.3f}/{rows[name][-1]['inference']:.3f} s" for name in order),
                      file=sys.stderr, flush=True)
            keys = ("ttfa", "inference", "rtf", "audio", "gapless_start", "stall_count", "stall_time")
            summary = {name: {key: stats([r[key] for r in rows[name]]) for key in keys if key in rows[name][0]}
                       for name in methods}
            paired = {name: {"ttfa_vs_create_stream": stats([r["ttfa"] / c["ttfa"] for r, c in
                                                              zip(rows[name], rows["create_stream"])]),
                             "inference_vs_sentences": stats([r["inference"] / s["inference"] - 1 for r, s in
                                                               zip(rows[name], rows["sentences"])])}
                      for name in SPLIT_STRATEGIES}
            # The chunks the harness cut (adaptive's depend on the pace it measured before T1).
            out[text_id] = {"text": text, "chunks": {name: rows[name][0]["chunk_texts"] for name in SPLIT_STRATEGIES},
                            "rounds": rows, "summary": summary, "paired": paired}
    finally:
        harness.close()
        kokoro.close()
    return out


def call_cost(rounds: int) -> dict[str, Any]:
    """The fixed cost of one model call: intercept of seconds against phoneme tokens over prefixes of a text."""
    words = BUILTIN_TEXTS["paragraph"].split()
    prefixes = [" ".join(words[:n]) for n in (1, 2, 4, 8, 16, 32, 64) if n <= len(words)]
    bare = BareLoop(model_files.int8_model_path(), model_files.japanese_voice_pack())
    bare.call_time(WARMUP_TEXT)
    points: list[tuple[int, float]] = []
    for index in range(rounds):
        order = prefixes[index % len(prefixes):] + prefixes[:index % len(prefixes)]
        points += [bare.call_time(p) for p in order]
    tokens = np.array([p[0] for p in points], dtype=float)
    seconds = np.array([p[1] for p in points])
    slope, intercept = np.polyfit(tokens, seconds, 1)
    by_length = {n: stats([s for t, s in points if t == n]) for n in sorted({t for t, _ in points})}
    return {"points": points, "intercept": float(intercept), "per_token": float(slope),
            "by_tokens": {str(k): v for k, v in sorted(by_length.items())}}


def strategies_report(measured: dict[str, Any], cost: dict[str, Any]) -> str:
    lines = []
    for text_id, m in measured.items():
        n = m["summary"]["create_stream"]["ttfa"]["n"]
        stream_ttfa = m["summary"]["create_stream"]["ttfa"]["median"]
        sentences_inference = m["summary"]["sentences"]["inference"]["median"]
        lines += [f"### Text `{text_id}` (medians of {n} rounds, min–max in brackets; seconds)", "",
                  "| method | chunks | TTFA | TTFA / create_stream (paired) | gapless start | stalls (max) | stall s | "
                  "inference | vs sentences (paired) | RTF |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for name, s in m["summary"].items():
            chunks = m["rounds"][name][0]["chunks"]
            if name == "create_stream":
                lines.append(f"| kokoro-onnx create_stream | {chunks} | {fmt(s['ttfa'])} | 1 | – | – | – | "
                             f"{fmt(s['inference'])} | {s['inference']['median'] / sentences_inference - 1:+.1%} | "
                             f"{fmt(s['rtf'])} |")
                continue
            p = m["paired"][name]
            lines.append(
                f"| {name} | {chunks} | {fmt(s['ttfa'])} | {s['ttfa']['median'] / stream_ttfa:.3f} "
                f"({p['ttfa_vs_create_stream']['median']:.3f}) | {fmt(s['gapless_start'])} | "
                f"{s['stall_count']['median']:.0f} ({s['stall_count']['max']:.0f}) | {fmt(s['stall_time'])} | "
                f"{fmt(s['inference'])} | {s['inference']['median'] / sentences_inference - 1:+.1%} "
                f"({p['inference_vs_sentences']['median']:+.1%}) | {fmt(s['rtf'])} |")
        paces = {json.dumps(r["adaptive_pace"], sort_keys=True) for r in m["rounds"]["adaptive"]}
        lines += ["", "adaptive cut: " + " / ".join(f"`{c}`" for c in m["chunks"]["adaptive"]),
                  f"with the pace it measured before T1 (µs): {', '.join(sorted(paces))}"]
        lines.append("")
    lines += ["### Fixed cost of one model call", "",
              f"Least squares over {len(cost['points'])} calls: seconds = {cost['intercept']:.3f} + "
              f"{cost['per_token'] * 1000:.2f} ms × phoneme tokens.", "",
              "| tokens | seconds (median, min–max) |", "| --- | --- |"]
    lines += [f"| {tokens} | {fmt(s)} |" for tokens, s in cost["by_tokens"].items()]
    return "\n".join(lines) + "\n"


def pytest_accounting(rounds: int, target: str) -> dict[str, Any]:
    """Wall time of the suite vs. what its results file accounts for; plus its start-up alone (--collect-only).
    ``benchmarks/`` also runs test_fuzz.py, whose runs write no results: ``benchmarks/test_kokoro.py`` is the
    streaming benchmark alone."""
    pytest_bin = Path(sys.executable).parent / "pytest"
    with tempfile.TemporaryDirectory(prefix="kokoro-measure-") as tmp:
        base = [str(pytest_bin), target, "-p", "no:cacheprovider"]
        command = [*base, "--kokoro-rounds", str(rounds), "--kokoro-results-dir", tmp]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        files = sorted(Path(tmp).glob("benchmark_results_*.json"))
        results = json.loads(files[-1].read_text())
        started = time.perf_counter()
        subprocess.run([*base, "--collect-only", "-q", "--kokoro-results-dir", tmp], cwd=ROOT, capture_output=True,
                       check=True)
        collect = time.perf_counter() - started
    load = sum(r["model_load_time"] for r in results)
    inference = sum(r["inference_time"] for r in results)
    host_wall = sum(r["host_wall_time"] for r in results)
    warmup = host_wall - load - inference
    accounted = load + inference + warmup
    return {"command": " ".join(["pytest", *command[1:-2]]), "wall": wall, "rounds": len(results),
            "model_load_time": load, "inference_time": inference, "warmup_and_transport": warmup,
            "accounted": accounted, "accounted_share": accounted / wall, "unaccounted": wall - accounted,
            "collect_only_wall": collect, "per_round_host_wall": [r["host_wall_time"] for r in results]}


# ---------------------------------------------------------------- report

def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "platform": platform.platform(), "python": platform.python_version(),
            "onnxruntime": importlib.metadata.version("onnxruntime"),
            "kokoro_onnx": importlib.metadata.version("kokoro-onnx"),
            "loadavg_start": os.getloadavg()}


def fmt(s: dict[str, float], digits: int = 3) -> str:
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def report(reps: list[dict[str, Any]], text: str) -> str:
    lines = []
    for number, rep in enumerate(reps, 1):
        inter = rep["interleaved"]
        if inter is None:
            lines += [f"### Repetition {number}", ""]
        else:
            lines += interleaved_report(number, inter)
        for acc in rep["pytest"]:
            lines += [f"`{acc['command']}`: wall {acc['wall']:.2f} s, {acc['rounds']} rounds; model_load_time "
                      f"{acc['model_load_time']:.2f} s + inference_time {acc['inference_time']:.2f} s + warm-up/"
                      f"transport {acc['warmup_and_transport']:.2f} s = {acc['accounted']:.2f} s accounted "
                      f"({acc['accounted_share']:.1%}); unaccounted {acc['unaccounted']:.2f} s "
                      f"({1 - acc['accounted_share']:.1%}); the same command with --collect-only takes "
                      f"{acc['collect_only_wall']:.2f} s.", ""]
    return "\n".join(lines)


def interleaved_report(number: int, inter: dict[str, Any]) -> list[str]:
    lines = []
    n = inter["summary"]["harness"]["inference"]["n"]
    lines += [f"### Repetition {number} (medians of {n} rounds, min–max in brackets; seconds)", "",
              "| method | chunks | TTFA | inference | RTF | audio s |", "| --- | --- | --- | --- | --- | --- |"]
    for name in inter["methods"]:
        s = inter["summary"][name]
        chunks = inter["rounds"][name][0]["chunks"]
        lines.append(f"| {name} | {chunks} | {fmt(s['ttfa'])} | {fmt(s['inference'])} | {fmt(s['rtf'])} | "
                     f"{s['audio']['median']:.3f} |")
    o = inter["overhead"]
    pi, pt = o["paired_inference"], o["paired_ttfa"]
    lines += ["", f"Harness vs bare loop: medians {o['median_of_medians']:+.1%}; paired per round, inference "
              f"{pi['median']:+.1%} (IQR {pi['q1']:+.1%}…{pi['q3']:+.1%}, range {pi['min']:+.1%}…{pi['max']:+.1%}), "
              f"TTFA {pt['median']:+.1%} (range {pt['min']:+.1%}…{pt['max']:+.1%}). "
              f"Harness start (spawn to hello) {inter['harness_start_time']:.2f} s, cold load "
              f"{inter['harness_load_time']:.2f} s.", ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per method per repetition (default 7)")
    parser.add_argument("--repeats", type=int, default=2, help="repetitions of the whole measurement (default 2)")
    parser.add_argument("--methods", default=",".join(METHODS), help="the interleaved methods, comma-separated "
                        f"(default {','.join(METHODS)})")
    parser.add_argument("--rotate", action="store_true", help="rotate the order each round (A B / B A ...) instead "
                        "of always A B C D, to rule out an order effect")
    parser.add_argument("--pytest-rounds", type=int, default=5, help="--kokoro-rounds of the timed pytest runs "
                        "(default 5; 0: no pytest run)")
    parser.add_argument("--pytest-target", action="append", default=None,
                        help="what the timed pytest runs run (repeatable; default: benchmarks/ and "
                             "benchmarks/test_kokoro.py, the streaming benchmark without the fuzz test)")
    parser.add_argument("--strategies", action="store_true", help="measure the split strategies against "
                        "create_stream on the default and paragraph texts, and the fixed cost of a model call")
    parser.add_argument("--texts", default="default,paragraph", help="--strategies: the built-in texts to measure "
                        "(default: default,paragraph)")
    args = parser.parse_args(argv)
    if args.strategies:
        return main_strategies(args, argv)
    methods = tuple(args.methods.split(","))
    if not set(methods) <= set(METHODS) or not {"harness", "bare"} <= set(methods):
        parser.error(f"--methods: a comma-separated subset of {','.join(METHODS)} with harness and bare in it")
    targets = args.pytest_target or ["benchmarks/", "benchmarks/test_kokoro.py"]
    text = REFERENCE_DEFAULT_TEXT
    info = machine()
    print(f"machine: {info}", file=sys.stderr)
    reps = []
    with tempfile.TemporaryDirectory(prefix="kokoro-measure-logs-") as logs:
        for number in range(args.repeats):
            inter = None
            if args.rounds > 0:
                print(f"repetition {number + 1}/{args.repeats}: interleaved rounds", file=sys.stderr, flush=True)
                inter = interleaved(text, args.rounds, Path(logs), methods, args.rotate)
            print(f"repetition {number + 1}/{args.repeats}: pytest", file=sys.stderr, flush=True)
            reps.append({"interleaved": inter,
                         "pytest": [pytest_accounting(args.pytest_rounds, target) for target in targets]
                         if args.pytest_rounds > 0 else [],
                         "loadavg_end": os.getloadavg()})
    out = {"command": " ".join([".venv/bin/python", "tools/measure_host.py", *(argv or sys.argv[1:])]),
           "machine": info, "text": text, "voice": VOICE, "variant": VARIANT, "speed": SPEED,
           "chunks": split_sentences(text), "rounds": args.rounds, "repetitions": reps}
    target = ROOT / "results" / f"host_performance_{datetime.now().strftime('%Y%m%d_%H%M%S')}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2) + "\n")
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, onnxruntime {info['onnxruntime']}, "
          f"kokoro-onnx {info['kokoro_onnx']}, load average at start {info['loadavg_start'][0]:.2f}\n")
    print(report(reps, text))
    print(f"JSON: {target.relative_to(ROOT)}")
    return 0


def main_strategies(args: argparse.Namespace, argv: list[str] | None) -> int:
    info = machine()
    print(f"machine: {info}", file=sys.stderr)
    texts = {name: BUILTIN_TEXTS[name] for name in args.texts.split(",")}
    with tempfile.TemporaryDirectory(prefix="kokoro-measure-logs-") as logs:
        measured = strategies(texts, args.rounds, Path(logs))
    cost = call_cost(args.rounds)
    info["loadavg_end"] = os.getloadavg()
    out = {"command": " ".join([".venv/bin/python", "tools/measure_host.py", *(argv or sys.argv[1:])]),
           "machine": info, "voice": VOICE, "variant": VARIANT, "speed": SPEED, "strategies": measured,
           "call_cost": cost}
    target = ROOT / "results" / f"host_strategies_{datetime.now().strftime('%Y%m%d_%H%M%S')}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2) + "\n")
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, onnxruntime {info['onnxruntime']}, kokoro-onnx "
          f"{info['kokoro_onnx']}, load average {info['loadavg_start'][0]:.2f} at start, "
          f"{info['loadavg_end'][0]:.2f} at the end\n")
    print(strategies_report(measured, cost))
    print(f"JSON: {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
