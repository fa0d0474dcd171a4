"""Does sending audio change the Swift harness's chunk times? The timing rule's check (GitHub issue 9).

Run from the project root, after ``cd ios-harness && swift build -c release --product KokoroBenchHarness``:

    .venv/bin/python tools/measure_swift_audio.py [--binary PATH] [--rounds 10] [--cost-per-char-ms 0.5]

One ``KokoroBenchHarness --stdio --busy`` process: its scripted engine (SIMULATED: no model) spends each chunk's
cost spinning on a CPU core, as a real engine keeps a core busy, instead of sleeping. Rounds alternate
``send_audio`` off and on in the order A B B A A B B A ... on one text of long chunks (so each audio event is a
few MB of base64), each round with warm-up and the same variant. Prints, per chunk, the median time with audio
off and on and their ratio. With the timing rule (audio encoded and written after the clock stops) the ratio is
1 within noise; a harness that encodes and writes audio while later chunks are timed makes them slower on a busy
machine. The numbers are those of a simulated engine: they measure the harness, not Kokoro.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BINARY = ROOT / "ios-harness/.build/release/KokoroBenchHarness"
SENTENCE = ("The quick brown fox jumps over the lazy dog while the benchmark keeps on measuring every chunk of "
            "speech it makes, one after the other, without a pause, so that the audio of each chunk is long. ")
TEXT = " ".join(SENTENCE.strip() for _ in range(6))


def run_rounds(binary: Path, rounds: int, cost_per_char_ms: float) -> dict[bool, list[list[float]]]:
    proc = subprocess.Popen([str(binary), "--stdio", "--busy", "--cost-per-char-ms", str(cost_per_char_ms)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdin and proc.stdout
    times: dict[bool, list[list[float]]] = {False: [], True: []}
    order = [[False, True, True, False][i % 4] for i in range(2 * rounds)]
    try:
        for i, send_audio in enumerate(order):
            request = {"type": "run", "id": f"r{i}", "text": TEXT, "voice": "af_heart", "variant": "bf16",
                       "warmup": True, "send_audio": send_audio, "round": i}
            proc.stdin.write((json.dumps(request) + "\n").encode())
            proc.stdin.flush()
            while True:
                event = json.loads(proc.stdout.readline())
                if event["type"] == "done":
                    times[send_audio].append(event["result"]["per_sentence_inference"])
                    break
                if event["type"] == "error":
                    raise SystemExit(f"harness error: {event}")
        proc.stdin.write(b'{"type": "shutdown"}\n')
        proc.stdin.flush()
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", type=Path, default=DEFAULT_BINARY)
    parser.add_argument("--rounds", type=int, default=10, help="rounds per arm")
    parser.add_argument("--cost-per-char-ms", type=float, default=0.5)
    args = parser.parse_args()
    times = run_rounds(args.binary, args.rounds, args.cost_per_char_ms)
    load = os.getloadavg()
    print(f"binary {args.binary}; {args.rounds} rounds per arm, interleaved A B B A; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("| chunk | audio off: median s | audio on: median s | on / off |")
    print("| --- | --- | --- | --- |")
    chunks = len(times[False][0])
    ratios = []
    for c in range(chunks):
        off = statistics.median(r[c] for r in times[False])
        on = statistics.median(r[c] for r in times[True])
        ratios.append(on / off)
        print(f"| {c} | {off:.4f} | {on:.4f} | {on / off:.3f} |")
    later = ratios[1:]
    print(f"chunks 1..{chunks - 1} (timed while earlier audio existed): mean on/off ratio "
          f"{statistics.mean(later):.3f}, max {max(later):.3f}")


if __name__ == "__main__":
    main()
