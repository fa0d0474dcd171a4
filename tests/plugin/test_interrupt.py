"""Ctrl-C and a CI cancel (SIGTERM) mid-round: the run says it is stopping, the harness is gone when pytest exits,
the rounds measured so far are in a valid results file, and no traceback is printed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT

SUITE = (ROOT / "benchmarks" / "test_kokoro.py").read_text()


def processes_with(marker: str) -> list[int]:
    """Pids of live processes whose environment carries ``marker`` (the harness inherits pytest's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_run_stops_its_harness_and_keeps_its_rounds(tmp_path, signum):
    (tmp_path / "test_kokoro.py").write_text(SUITE)
    marker = f"KOKORO_INTERRUPT_TEST={uuid.uuid4().hex}"
    env = {**os.environ, marker.split("=")[0]: marker.split("=")[1], "PYTHONPATH": str(ROOT)}
    pytest_run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "test_kokoro.py", "-p", "no:cacheprovider", "-p", "no:randomly",
         "--kokoro-texts=paragraph", "--kokoro-rounds=50", "--no-kokoro-warmup"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # As in a terminal: a suite started in the background by a shell without job control inherits SIGINT
        # ignored, and Python then installs no KeyboardInterrupt handler, so Ctrl-C would never arrive.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 600
        results = []
        while time.monotonic() < deadline and not results:
            time.sleep(0.5)
            files = list((tmp_path / "results").glob("benchmark_results_*.json"))
            if files and files[0].stat().st_size > 2:
                results = json.loads(files[0].read_text())
        assert results, "no round was written"
        assert processes_with(marker), "the harness should be running"
        pytest_run.send_signal(signum)  # mid-round: the next round has started
        output, _ = pytest_run.communicate(timeout=120)
    finally:
        if pytest_run.poll() is None:
            pytest_run.kill()
    assert "kokoro: stopping: the harness is stopped now" in output
    assert "Traceback" not in output
    assert pytest_run.returncode == pytest.ExitCode.INTERRUPTED
    assert processes_with(marker) == []  # the harness did not outlive pytest
    kept = json.loads(next((tmp_path / "results").glob("benchmark_results_*.json")).read_text())
    assert len(kept) >= len(results) >= 1
