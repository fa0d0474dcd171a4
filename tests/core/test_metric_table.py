"""The metric table is the one list of metrics: a new row reaches the gates, the pytest-benchmark adapter, the
terminal summary and the HTML report with no other edit (docs/architecture.md, "Add a metric")."""

from __future__ import annotations

import json
import subprocess
import sys

from pytest_kokoro.core.metric_table import BY_KEY, METRICS, default_thresholds, gateable
from pytest_kokoro.core.schema import HARNESS_EXTRA_KEYS, QUALITY_KEYS, REFERENCE_KEYS
from tests.conftest import ROOT

# A process that adds one row before anything reads the table, then asks every consumer about it.
ONE_MORE_ROW = r"""
import dataclasses, json, sys
import pytest_kokoro.core.metric_table as table

row = table.Metric("quality_score", "quality", "quality", better=table.HIGHER, gate=0.05, gateable=True,
                   compare=True, benchmark="entry")
table.METRICS = (*table.METRICS, row)
table.BY_SHORT["quality"] = row
table.BY_KEY["quality_score"] = row

from pytest_kokoro.benchmark.adapter import benchmark_entries
from pytest_kokoro.gates.spec import DEFAULT_THRESHOLDS, parse_gate_spec
from pytest_kokoro.gates.verdicts import compare_unpaired
from pytest_kokoro.report.html import render
from pytest_kokoro.report.rounds import load_runs
from pytest_kokoro.report.terminal import summary_lines
from pytest_kokoro.runner.records import Case, CaseRecord

path = sys.argv[1]
rows = json.load(open(path))
for i, r in enumerate(rows):
    r["quality_score"] = 0.9 - 0.01 * i
json.dump(rows, open(path, "w"))
record = CaseRecord(Case(rows[0]["variant"], rows[0]["voice"], "default", rows[0]["text"]), "t.py::t[c]", rows)
worse = compare_unpaired("quality", [0.9] * 6 + [0.91] * 6, [0.5] * 6 + [0.51] * 6, 0.05)
print(json.dumps({
    "defaults": DEFAULT_THRESHOLDS,
    "spec": parse_gate_spec("quality=2%").thresholds,
    "lower_quality_is_a_regression": worse.p_regression < 0.01 and worse.p_improvement > 0.5,
    "entries": [e["group"] for e in benchmark_entries(record)],
    "summary_header": summary_lines([record], "host")[1].split(),
    "report_has_column": "quality</th>" in render(load_runs([path])),
}))
"""


def test_a_new_row_reaches_every_consumer(tmp_path):
    results = tmp_path / "benchmark_results_20261124_120000.json"
    results.write_text((ROOT / "tests" / "report" / "data" / "benchmark_results_20261124_120000.json").read_text())
    done = subprocess.run([sys.executable, "-c", ONE_MORE_ROW, str(results)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["defaults"] == {"quality": 0.05, "rtf": 0.10, "ttfa": 0.15}
    assert seen["spec"]["quality"] == 0.02
    assert seen["lower_quality_is_a_regression"]
    assert seen["entries"] == [None, "ttfa", "rtf", "quality"]
    assert "quality" in seen["summary_header"]
    assert seen["report_has_column"]


def test_every_row_names_a_result_key_and_a_unique_short_name():
    assert all(metric.key in (*REFERENCE_KEYS, *HARNESS_EXTRA_KEYS, *QUALITY_KEYS) for metric in METRICS)
    assert len({m.short for m in METRICS}) == len(METRICS) == len(BY_KEY)
    assert set(gateable()) == {"inference", "intelligibility", "rtf", "ttfa"}
    assert default_thresholds() == {"rtf": 0.10, "ttfa": 0.15}
