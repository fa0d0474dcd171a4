"""A user's first hour, one mistake at a time, as users make them: each ends in one message that names the fix,
before anything is measured, with no traceback (issue: "every mistake ends in a message that names the fix")."""

from __future__ import annotations

import json

import pytest

from pytest_kokoro.gates.baselines import DeviceIdentity, release_series
from tests.conftest import ROOT

SUITE = (ROOT / "benchmarks" / "test_kokoro.py").read_text()
FAST = ("-p", "no:cacheprovider", "-p", "no:randomly", "--kokoro-texts=short", "--kokoro-rounds=1",
        "--no-kokoro-warmup")


@pytest.fixture
def suite(pytester):
    pytester.makepyfile(test_kokoro=SUITE)
    return pytester


def refused(result, *lines: str) -> None:
    """A usage error before any case ran: the lines are said, and no traceback."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines(list(lines))
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    result.stdout.no_fnmatch_line("*passed*")


def test_results_dir_that_is_a_file(suite):
    (suite.path / "taken").write_text("a file")
    refused(suite.runpytest_subprocess(*FAST, "--kokoro-results-dir=taken"),
            "*--kokoro-results-dir: cannot write in taken (*); choose a folder you can write to*")


def test_results_dir_on_a_file_system_that_refuses_writes(suite):
    refused(suite.runpytest_subprocess(*FAST, "--kokoro-results-dir=/sys/kokoro-results"),
            "*--kokoro-results-dir: cannot write in /sys/kokoro-results (*); choose a folder you can write to*")


def test_report_into_a_folder_that_cannot_be_written(suite):
    refused(suite.runpytest_subprocess(*FAST, "--kokoro-report=/sys/kokoro/report.html"),
            "*--kokoro-report: cannot write in /sys/kokoro (*)*")


def test_iphone_without_pymobiledevice3_is_said_once(suite):
    suite.makeconftest("import sys\nsys.modules['pymobiledevice3'] = None  # as if the iphone extra were missing\n")
    result = suite.runpytest_subprocess(*FAST, "--kokoro-device=iphone")
    refused(result, "*pymobiledevice3, which is not installed: pip install 'pytest-kokoro?iphone?'*")
    assert result.stderr.str().count("pymobiledevice3, which is not installed") == 1


def test_host_without_its_extra_is_said_once_before_any_case(suite):
    suite.makeconftest("import sys\nsys.modules['onnxruntime'] = None  # as if the host extra were not installed\n")
    refused(suite.runpytest_subprocess(*FAST, "--kokoro-texts=short,default"),
            "*the host device needs pytest-kokoro's 'host' extra*onnxruntime is not installed: pip install "
            "'pytest-kokoro?host?'*")


def test_a_baseline_that_does_not_exist_is_refused_before_any_round(suite):
    refused(suite.runpytest_subprocess(*FAST, "--kokoro-rounds=5", "--kokoro-baseline=nosuchname"),
            "*--kokoro-baseline nosuchname: no baseline named 'nosuchname' under kokoro-baselines*record one first "
            "with --kokoro-save-baseline nosuchname*")
    assert not (suite.path / "results").exists() or not list((suite.path / "results").glob("benchmark_results_*"))


def test_a_corrupt_baseline_file_is_refused_before_any_round(suite):
    (suite.path / "main.json").write_text("{not json")
    refused(suite.runpytest_subprocess(*FAST, "--kokoro-rounds=5", "--kokoro-baseline=main.json"),
            "*--kokoro-baseline main.json: *main.json*")


@pytest.mark.parametrize("args,message", [
    (["--kokoro-rounds=abc"], "*--kokoro-rounds: expected a whole number, got 'abc'*"),
    (["--kokoro-timeout=soon"], "*--kokoro-timeout: expected a number, got 'soon'*"),
])
def test_values_that_are_not_numbers(suite, args, message):
    result = suite.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "invalid literal" not in result.stderr.str()


def test_the_help_shows_defaults_and_placeholders_a_user_can_read(pytester):
    shown = " ".join(pytester.runpytest_subprocess("--help").stdout.str().split())
    for text in ("--kokoro-device=DEVICE", "--kokoro-rounds=N timed rounds per case (default: 5)",
                 "--kokoro-results-dir=DIR where results, WAVs and harness logs go (default: results)",
                 "host: the host harness", "iphone or iphone:UDID[@HOST:PORT][,UDID[@HOST:PORT]...]:",
                 "swift: sherpa-onnx: the real Kokoro-82M int8 through sherpa-onnx's C API"):
        assert text in shown
    assert "--lsof" not in shown and "--runpytest" not in shown
    assert "KOKORO_" not in shown


def test_a_run_says_what_a_speech_engineer_needs(suite):
    """One round: the kokoro table with spreads, the warning that one round says little, where to go next, the
    header that says how kokoro cases run; pytest-benchmark's own table only on request."""
    result = suite.runpytest_subprocess(*FAST)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "kokoro: 1 case(s) on host (onnxruntime), 1 timed round(s) each, warm-up off; times are the harness's*",
        "case*rounds*TTFA s*min–max*RTF*min–max*inference s*load s*peak GiB*chunks*",
        "note: 1 round(s) a case: a median of so few says little*--kokoro-rounds 5 or more*",
        "next: --kokoro-report report.html*", "next: --kokoro-save-baseline NAME*",
    ])
    result.stdout.no_fnmatch_line("*Name (time in *")
    with_table = suite.runpytest_subprocess(*FAST, "--kokoro-benchmark-table")
    with_table.stdout.fnmatch_lines(["*Name (time in *"])


def test_a_skipped_case_says_why_in_the_summary(suite):
    result = suite.runpytest_subprocess(*FAST, "--kokoro-voices=jf_alpha,af_heart")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["skipped int8-af_heart-short: *--kokoro-voice-pack*"])


def test_baselines_outlive_a_kernel_patch_and_say_what_differs(tmp_path):
    assert release_series("6.18.44-fc-v1252") == release_series("6.18.44-fc-v782") == "6.18"
    assert release_series("18.1.1") == "18.1" and release_series("18") == "18"
    old = DeviceIdentity("x86_64", "6.18.44-fc-v782", "0.1.0", "onnxruntime")
    assert old == DeviceIdentity("x86_64", "6.18.44-fc-v1252", "0.1.0", "onnxruntime")
    from pytest_kokoro.gates.baselines import BaselineNotFoundError, BaselineStore

    store = BaselineStore(tmp_path)
    store.save("main", old, {"c": {"rtf": [0.3] * 5, "ttfa": [0.5] * 5}})
    newer = DeviceIdentity("x86_64", "6.19.1", "0.1.0", "onnxruntime")
    with pytest.raises(BaselineNotFoundError, match="os_version: '6.18' vs '6.19'.*--kokoro-save-baseline main"):
        store.load("main", newer)
    assert json.loads(next(tmp_path.glob("*/main.json")).read_text())["identity"]["os_version"] == "6.18"
