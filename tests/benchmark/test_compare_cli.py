"""pytest-benchmark's own `compare` command reads our pytest-benchmark JSON, run from the project's root as
docs/results.md tells users to (it imports the root conftest.py and builds a pytest config there)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from pytest_kokoro.benchmark.xdist import ResultsMerger
from pytest_kokoro.runner.records import Case, CaseRecord
from tests.conftest import ROOT


def test_pytest_benchmark_compare_reads_our_json_from_the_project_root(tmp_path):
    rows = json.loads((ROOT / "tests" / "report" / "data" / "benchmark_results_20261124_120000.json").read_text())
    record = CaseRecord(Case(rows[0]["variant"], rows[0]["voice"], "default", rows[0]["text"]),
                        "benchmarks/test_kokoro.py::test_kokoro[int8-jf_alpha-default]", rows)
    path = tmp_path / "pytest_benchmark.json"
    path.write_text(json.dumps(ResultsMerger().benchmark_json([record])))
    command = shutil.which("pytest-benchmark", path=str(Path(sys.executable).parent))
    done = subprocess.run([command, "compare", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "PytestAssertRewriteWarning" not in done.stderr
    assert "test_kokoro[int8-jf_alpha-default]::rtf" in done.stdout
