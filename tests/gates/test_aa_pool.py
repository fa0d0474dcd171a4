"""tools/aa_pool.py and tools/order_effect.py (issue 23's measurements) read real results files as the plugin
writes them: pairs by case and round, the gate's exclusions applied, each arrangement's engines side by side."""

from __future__ import annotations

import json

from tools import aa_pool, order_effect


def _round(case, index, arm, ttfa, rtf, **extra):
    return {"case": case, "round": index, "arm": arm, "time_to_first_audio": ttfa, "real_time_factor": rtf,
            "excluded_from_gates": [], "heat_flags": [], **extra}


def test_aa_pool_pairs_rounds_by_case_and_round_and_leaves_out_what_the_gate_leaves_out(tmp_path):
    run = tmp_path / "20261205_180000_quiet_candidate"
    run.mkdir()
    rounds = [_round("c", 0, "candidate", 1.0, 0.5), _round("c", 0, "baseline", 1.1, 0.5),
              _round("c", 1, "baseline", 1.0, 0.5), _round("c", 1, "candidate", 1.0, 0.6, heat_flags=["calibration_hot"]),
              _round("c", 2, "candidate", 2.0, 1.0), _round("c", 2, "baseline", 2.0, 1.0)]
    (run / "benchmark_results_20261205_180000.json").write_text(json.dumps(rounds))
    (run / "aa_run.json").write_text(json.dumps({"folder": run.name, "label": "quiet", "first": "candidate",
                                                 "load_before": 0.5, "load_after": 1.9}))
    pairs = aa_pool.pairs_of(run)
    assert [(b["round"], c["round"]) for b, c in pairs] == [(0, 0), (2, 2)]  # round 1's hot candidate and its pair out
    table = aa_pool.report(tmp_path)
    assert "| quiet | 1 | 2 |" in table and "| candidate first | 1 | 2 |" in table


def test_order_effect_reports_each_arrangement_and_first_against_last(tmp_path):
    for name, medians in (("grouped A→B", (1.0, 2.0)), ("grouped B→A", (1.2, 1.8))):
        folder = tmp_path / name.replace(" ", "_")
        folder.mkdir()
        rows = [{"engine": "onnxruntime", "time_to_first_audio": medians[0], "real_time_factor": medians[0] / 2,
                 "broken_rules": []},
                {"engine": "sherpa-onnx", "time_to_first_audio": medians[1], "real_time_factor": medians[1] / 2,
                 "broken_rules": []}]
        (folder / "benchmark_results_1.json").write_text(json.dumps(rows))
        (folder / "order_run.json").write_text(json.dumps({"arrangement": name, "label": "quiet"}))
    table = order_effect.report(tmp_path)
    assert "| grouped A→B | quiet | 1 | 1 | 1.000 / 2.000 | 0.500 / 1.000 | 2.000 | 2.000 |" in table
    assert "| grouped B→A | quiet | 1 | 1 | 1.200 / 1.800 | 0.600 / 0.900 | 1.500 | 1.500 |" in table
    # onnxruntime ran first in A→B (1.0) and last in B→A (1.2): first / last = 0.833
    assert "| onnxruntime | quiet | 0.833 | 0.833 |" in table
