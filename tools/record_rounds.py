"""Record real rounds of the host harness, two identical arms interleaved (A B B A ...), as data for the gate
simulation (tools/gate_simulation.py, docs/gates.md "Measured error rates").

Both arms run the same pinned harness (the real Kokoro-82M int8 on onnxruntime), each in its own process, exactly
as an A/B gate run does: round i of arm A and round i of arm B run back to back, the order alternating, with the
usual untimed warm-up. Every round keeps the harness-measured RTF, TTFA, inference time and calibration time, and
the machine's 1-minute load average when it ended, so the data say how busy the machine was.

    git archive --prefix=pinned/ <commit> pytest_kokoro | tar -x -C /tmp/kokoro-pinned
    .venv/bin/python tools/record_rounds.py --pairs 300 --harness-dir /tmp/kokoro-pinned/pinned \\
        --out tools/data/host_rounds.json

The output is one JSON file: {"meta": {...}, "rounds": [{"pair", "arm", "position", "rtf", "ttfa", "inference",
"calibration", "audio_duration", "load1", "t"}, ...]}. It is rewritten after every pair, so an interrupted
recording keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_kokoro.core.texts import BUILTIN_TEXTS  # noqa: E402  (a tool run from the checkout)

KEYS = {"rtf": "real_time_factor", "ttfa": "time_to_first_audio", "inference": "inference_time",
        "calibration": "calibration_time", "audio_duration": "audio_duration"}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def start_arm(label: str, harness_dir: Path | None, logs: Path, slowdown: float = 0.0):
    """One host harness process, speaking the protocol on stdio; imported from ``harness_dir`` when given;
    ``slowdown``: the harness's fault injection makes every synthesis that much slower (PYTEST_KOKORO_INJECT_SLOWDOWN)."""
    from pytest_kokoro.devices.subprocess import SubprocessDevice

    cwd = harness_dir or ROOT
    env = {"PYTHONPATH": str(cwd), "PYTEST_KOKORO_INJECT_SLOWDOWN": str(slowdown) if slowdown else ""}
    device = SubprocessDevice(label, [sys.executable, "-m", "pytest_kokoro.harness"], logs / f"{label}.log",
                              env=env, cwd=cwd)
    return device, device.start(timeout=120.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--text", default="short", choices=sorted(BUILTIN_TEXTS))
    parser.add_argument("--variant", default="int8")
    parser.add_argument("--voice", default="jf_alpha")
    parser.add_argument("--harness-dir", type=Path, help="a folder holding the pinned pytest_kokoro package")
    parser.add_argument("--slowdown-b", type=float, default=0.0,
                        help="inject this slowdown into arm B's engine (0.2: 20%%), for real slowdown rounds")
    parser.add_argument("--out", type=Path, default=ROOT / "tools" / "data" / "host_rounds.json")
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="kokoro-record-"))
    text = BUILTIN_TEXTS[args.text]
    meta = {
        "what": "real rounds of the host harness, two identical arms interleaved A B B A (tools/record_rounds.py)",
        "text_id": args.text, "text": text, "slowdown_b": args.slowdown_b, "variant": args.variant, "voice": args.voice, "warmup": True,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "harness_dir": str(args.harness_dir or ROOT), "started": datetime.now(timezone.utc).isoformat(),
        "uptime_start": uptime(),
    }
    arms = {label: start_arm(label, args.harness_dir, logs, args.slowdown_b if label == "B" else 0.0)
            for label in ("A", "B")}
    meta["engine_version"] = {label: client.hello.get("engine_version") for label, (_, client) in arms.items()}
    rounds: list[dict] = []
    started = time.monotonic()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    try:
        for pair in range(args.pairs):
            order = ("A", "B") if pair % 2 == 0 else ("B", "A")
            for position, label in enumerate(order):
                client = arms[label][1]
                outcome = client.run(text=text, voice=args.voice, variant=args.variant, warmup=True,
                                     send_audio=False, round_index=pair)
                row = {"pair": pair, "arm": label, "position": position,
                       **{short: outcome.result[key] for short, key in KEYS.items()},
                       "load1": os.getloadavg()[0], "t": round(time.monotonic() - started, 3)}
                rounds.append(row)
            if pair % 10 == 9 or pair == args.pairs - 1:
                meta["uptime_latest"] = uptime()
                write(args.out, meta, rounds)
                print(f"{pair + 1} pairs, {time.monotonic() - started:.0f} s, {meta['uptime_latest']}", flush=True)
    finally:
        meta["finished"] = datetime.now(timezone.utc).isoformat()
        meta["uptime_end"] = uptime()
        write(args.out, meta, rounds)
        for device, client in arms.values():
            client.shutdown()
            device.stop()
    return 0


def write(path: Path, meta: dict, rounds: list[dict]) -> None:
    """Atomically: one meta object, then one round per line, so the file diffs and greps well."""
    lines = ['{"meta": ' + json.dumps(meta) + ',', ' "rounds": [']
    lines += ["  " + json.dumps(row, separators=(",", ":")) + ("," if i < len(rounds) - 1 else "")
              for i, row in enumerate(rounds)]
    lines.append(" ]}")
    temp = path.with_suffix(".tmp")
    temp.write_text("\n".join(lines) + "\n")
    os.replace(temp, path)


if __name__ == "__main__":
    sys.exit(main())
