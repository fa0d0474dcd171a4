"""Results and baselines on disk: strict JSON, atomic, never two runs in one file."""

import json
import math

from pytest_kokoro.core.jsonfile import claim_new_path, dumps, write_json_atomically
from pytest_kokoro.core.metrics import derive_metrics
from pytest_kokoro.runner.results import ResultsWriter


def test_a_number_that_cannot_be_computed_is_written_as_null(tmp_path):
    path = tmp_path / "r.json"
    write_json_atomically(path, [{"a": math.nan, "b": [math.inf, 1.5], "c": {"d": -math.inf}}])
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == [{"a": None, "b": [None, 1.5], "c": {"d": None}}]
    assert json.loads(dumps({"x": 2.0})) == {"x": 2.0}


def test_samples_per_sec_is_null_when_the_timed_region_is_empty():
    metrics = derive_metrics([0.0], [2400], model_load_time=0.0)
    assert metrics.samples_per_sec is None


def test_two_runs_started_in_the_same_second_write_two_files(tmp_path):
    first = ResultsWriter(tmp_path, "benchmark_results_20261125_120000.json")
    second = ResultsWriter(tmp_path, "benchmark_results_20261125_120000.json")
    first.add({"round": 0, "variant": "int8", "voice": "v", "sample_rate": 24000})
    second.add({"round": 0, "variant": "int8", "voice": "v", "sample_rate": 24000})
    second.add({"round": 1, "variant": "int8", "voice": "v", "sample_rate": 24000})
    assert first.path != second.path
    assert second.path.name == "benchmark_results_20261125_120000_2.json"
    assert len(json.loads(first.path.read_text())) == 1 and len(json.loads(second.path.read_text())) == 2


def test_a_writer_that_wrote_nothing_created_nothing(tmp_path):
    ResultsWriter(tmp_path / "results")
    assert not (tmp_path / "results").exists()


def test_claim_new_path_counts_up(tmp_path):
    names = [claim_new_path(tmp_path / "x.json").name for _ in range(3)]
    assert names == ["x.json", "x_2.json", "x_3.json"]


def test_files_are_readable_by_others_as_with_a_plain_open(tmp_path):
    """Results go to CI uploaders and teammates: not the 0600 of a temporary file."""
    import os
    import stat

    from pytest_kokoro.core.jsonfile import write_json_atomically

    previous = os.umask(0o022)
    try:
        write_json_atomically(tmp_path / "r.json", [1])
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o644
