"""A SIMULATED harness for fault tests: the real Harness loop over the scripted engine, misbehaving on cue.

python tests/faulty_harness.py --fault crash|hang|garbage|close|silent --on-run N  (the Nth run request, 1-based,
misbehaves after its first chunk; with --state FILE, only the first process to get there does, so a fresh
harness started after the fault behaves).

SIMULATED heat: --hot-runs N,M (1-based run requests) and --hot-conditions N,M (1-based conditions requests)
make the calibration workload report 0.2 s instead of a fixed 0.02 s (a fixed figure, so that only what a test
makes hot is hot); --old-protocol answers the conditions request as a harness that predates it does.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pytest_kokoro.core import protocol  # noqa: E402
from pytest_kokoro.harness import server  # noqa: E402
from pytest_kokoro.harness.server import Harness, read_lines  # noqa: E402
from tests.support.scripted_engine import ScriptedEngine  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fault", choices=["crash", "hang", "garbage", "close", "silent", "none"], default="none")
    parser.add_argument("--on-run", type=int, default=1)
    parser.add_argument("--state", help="a file that marks the fault as spent")
    parser.add_argument("--fault-sequence", help="crash,hang,...: each new process takes the next fault; with --state")
    parser.add_argument("--hot-runs", default="", help="N,M: these run requests measure a hot calibration")
    parser.add_argument("--hot-conditions", default="", help="N,M: these conditions requests report a hot one")
    parser.add_argument("--old-protocol", action="store_true", help="answer conditions with unknown_type")
    args = parser.parse_args()
    out = sys.stdout.buffer
    runs = conditions = 0
    hot_runs = {int(n) for n in args.hot_runs.split(",") if n}
    hot_conditions = {int(n) for n in args.hot_conditions.split(",") if n}
    calibrations = iter(())  # the calibration times the current request reports, in order

    def calibration() -> float:
        return next(calibrations, 0.02)

    server.measure_calibration = calibration
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
            calibrations = iter([0.2 if runs in hot_runs else 0.02, 0.02])  # before the clock, after the last chunk
        if b'"conditions"' in line:
            conditions += 1
            calibrations = iter([0.2 if conditions in hot_conditions else 0.02])
            if args.old_protocol:
                emit(protocol.error_event("unknown_type", "unknown request type 'conditions'; known: hello, load, "
                                          "unload, run, ping, shutdown", request_id=protocol.parse_request(line).id))
                continue
        if not harness.handle_line(line):
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
