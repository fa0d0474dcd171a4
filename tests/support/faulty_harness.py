"""A SIMULATED harness for fault tests: the real Harness loop over the scripted engine, misbehaving on cue.

python tests/faulty_harness.py --fault crash|hang|garbage|close|silent --on-run N  (the Nth run request, 1-based,
misbehaves after its first chunk; with --state FILE, only the first process to get there does, so a fresh
harness started after the fault behaves).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pytest_kokoro.core import protocol  # noqa: E402
from pytest_kokoro.harness.server import Harness, read_lines  # noqa: E402
from tests.support.scripted_engine import ScriptedEngine  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fault", choices=["crash", "hang", "garbage", "close", "silent", "none"], default="none")
    parser.add_argument("--on-run", type=int, default=1)
    parser.add_argument("--state", help="a file that marks the fault as spent")
    parser.add_argument("--fault-sequence", help="crash,hang,...: each new process takes the next fault; with --state")
    args = parser.parse_args()
    out = sys.stdout.buffer
    runs = 0
    spent = bool(args.state) and Path(args.state).exists()
    if args.fault_sequence:
        taken = int(Path(args.state).read_text()) if spent else 0
        sequence = args.fault_sequence.split(",")
        Path(args.state).write_text(str(taken + 1))
        args.fault = sequence[taken] if taken < len(sequence) else "none"
        args.state, spent = None, False

    def emit(message):
        out.write(protocol.encode(message))
        out.flush()
        if message["type"] == "chunk" and runs == args.on_run and not spent and args.fault != "none":
            if args.state:
                Path(args.state).write_text("spent")
            if args.fault == "crash":
                os._exit(137)
            if args.fault == "hang":
                time.sleep(3600)
            if args.fault == "garbage":
                out.write(b"\x00\xffSegmentation fault (core dumped)\n")
                out.flush()
            if args.fault == "close":
                os.close(1)  # the stream ends, the process lives on
                time.sleep(3600)

    # "silent": every run's audio is zeros, a round that breaks the never-bad-audio rule (docs/results.md).
    harness = Harness(ScriptedEngine(silent=args.fault == "silent"), emit)
    for line in read_lines(sys.stdin.buffer):
        if b'"run"' in line:
            runs += 1
        if not harness.handle_line(line):
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
