"""--kokoro-split and --kokoro-report as users run them: pytester, the real host harness and model."""

import pytest

from pytest_kokoro.core.metrics import chunk_times_of, replay_playback
from pytest_kokoro.core.schema import load_results_file
from tests.conftest import ROOT, results_of

SUITE = (ROOT / "benchmarks" / "test_kokoro.py").read_text()


@pytest.fixture
def suite(pytester):
    pytester.makepyfile(test_kokoro=SUITE)
    return pytester


def test_split_strategies_are_a_matrix_axis_in_the_case_id(suite):
    result = suite.runpytest("--collect-only", "-q", "--kokoro-texts=short", "--kokoro-split=sentences,adaptive,whole")
    result.stdout.fnmatch_lines(["*test_streaming_tts?int8-jf_alpha-short?",
                                 "*test_streaming_tts?int8-jf_alpha-short-adaptive?",
                                 "*test_streaming_tts?int8-jf_alpha-short-whole?", "3 tests collected*"])


def test_an_unknown_strategy_is_a_usage_error(suite):
    result = suite.runpytest("--kokoro-split=sentences,words")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown split strategy words: use sentences, clauses, adaptive, whole*"])


def test_a_host_run_with_a_strategy_records_it_with_the_playback_keys_and_writes_the_report(suite):
    result = suite.runpytest_subprocess("--kokoro-texts=default", "--kokoro-rounds=2", "--kokoro-split=clauses",
                                        "--kokoro-report=out/report.html")
    # The report's folder does not exist: it is made, the run's tests pass and the report is written there.
    result.stdout.fnmatch_lines(["report: out/report.html"])
    assert result.ret == pytest.ExitCode.OK
    path, results = results_of(suite)
    assert len(load_results_file(path, harness=True)) == 2
    assert [r["split"] for r in results] == ["clauses", "clauses"]
    assert {r["case"] for r in results} == {"int8-jf_alpha-default-clauses"}
    assert [r["chunk_count"] for r in results] == [3, 3]  # "Hello," is a clause of its own
    for r in results:
        replayed = replay_playback(chunk_times_of(r["per_sentence_inference"]), r["chunk_samples"])
        assert (r["stall_count"], r["gapless_start_time"]) == (replayed.stall_count,
                                                                pytest.approx(replayed.gapless_start_time))
        assert r["gapless_start_time"] >= r["time_to_first_audio"]
        assert r["played_chunk_starts"] is None  # the host has no audio player
    cold, warm = results
    assert cold["cold"] and cold["cold_time_to_first_audio"] > cold["model_load_time"] + cold["time_to_first_audio"]
    assert not warm["cold"] and warm["cold_time_to_first_audio"] is None

    (suite.path / "out" / "report.html").unlink()
    again = suite.runpytest_subprocess("--kokoro-texts=short", "--kokoro-rounds=1", "--kokoro-report=out/report.html")
    again.assert_outcomes(passed=1)
    again.stdout.fnmatch_lines(["report: out/report.html"])
    html = (suite.path / "out" / "report.html").read_text()
    assert 'id="summary-table"' in html and "int8-jf_alpha-short" in html and 'class="timeline-figure"' in html
