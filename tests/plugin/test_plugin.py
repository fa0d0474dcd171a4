"""The plugin as users run it: pytester, the command line, real files, the real host harness and model."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_kokoro.core.schema import load_results_file
from pytest_kokoro.harness.sherpa_model import sherpa_library_dir
from tests.conftest import ROOT, results_of

SUITE = (ROOT / "benchmarks" / "test_kokoro.py").read_text()


@pytest.fixture
def suite(pytester):
    pytester.makepyfile(test_kokoro=SUITE)
    return pytester


def test_help_lists_every_option(pytester):
    result = pytester.runpytest("--help")
    for flag in ("--kokoro-device=DEVICE", "--kokoro-variants", "--kokoro-voices", "--kokoro-texts", "--kokoro-rounds",
                 "--kokoro-warmup", "--no-kokoro-warmup", "--kokoro-results-dir", "--kokoro-wav", "--kokoro-model=VARIANT=PATH",
                 "--kokoro-voice-pack", "--kokoro-timeout", "--kokoro-split", "--kokoro-report", "--kokoro-app", "--kokoro-launch", "--kokoro-port", "--kokoro-quality",
                 "--kokoro-cooldown=SECONDS|nominal", "--kokoro-hot-factor=FACTOR"):
        result.stdout.fnmatch_lines([f"*{flag}*"])
    result.stdout.fnmatch_lines(["*kokoro_rounds (string):*"])


@pytest.mark.parametrize("args,message", [
    (["--kokoro-device=android"], "*unknown device 'android': use host, swift, iphone or iphone:UDID*"),
    (["--kokoro-rounds=0"], "*--kokoro-rounds*must be at least 1*"),
    (["--kokoro-hot-factor=0.8"], "*--kokoro-hot-factor*must be above 1*or 0 (the rule off), got 0.8*"),
    (["--kokoro-cooldown=warm"], "*--kokoro-cooldown*expected SECONDS, nominal or nominal:MAX_SECONDS, got 'warm'*"),
    (["--kokoro-texts=no-such-text"], "*'no-such-text' is neither a built-in text (default, short, paragraph) nor a file*"),
    (["--kokoro-model=fp16"], "*expected VARIANT=PATH*"),
    (["--kokoro-launch=sometimes"], "*expected auto or manual*"),
    (["--kokoro-engine=coreml"], "*unknown engine 'coreml': use mlx, onnxruntime, scripted, sherpa-onnx*"),
    (["--kokoro-engine=scripted"], "*--kokoro-engine scripted: host runs onnxruntime or sherpa-onnx or mlx*"),
    (["--kokoro-device=iphone", "--kokoro-engine=sherpa-onnx"], "*--kokoro-engine is for host and swift*"),
])
def test_bad_options_are_usage_errors_that_say_what_to_do(suite, args, message):
    result = suite.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_matrix_ids_from_options_and_a_texts_file(suite):
    (suite.path / "mine.txt").write_text("First text. Two sentences.\n\nSecond text.\n")
    result = suite.runpytest("--collect-only", "-q", "--kokoro-variants=int8,fp16", "--kokoro-voices=jf_alpha,jm_kumo",
                             "--kokoro-texts=short,mine.txt")
    result.stdout.fnmatch_lines(["*test_streaming_tts?int8-jf_alpha-short?", "*test_streaming_tts?fp16-jm_kumo-mine-2?"])
    result.stdout.fnmatch_lines(["12 tests collected*"])


def test_engines_are_a_matrix_axis(suite):
    result = suite.runpytest("--collect-only", "-q", "--kokoro-engine=onnxruntime,sherpa-onnx", "--kokoro-texts=short")
    result.stdout.fnmatch_lines(["*test_streaming_tts?int8-jf_alpha-short-onnxruntime?",
                                 "*test_streaming_tts?int8-jf_alpha-short-sherpa-onnx?", "2 tests collected*"])


def test_the_mlx_engine_defaults_to_the_phones_four_variants(suite):
    """Each engine its own variants: int8 for onnxruntime, bf16/8bit/6bit/4bit for mlx (nothing runs here)."""
    result = suite.runpytest("--collect-only", "-q", "--kokoro-engine=onnxruntime,mlx", "--kokoro-texts=short")
    result.stdout.fnmatch_lines(["*test_streaming_tts?int8-jf_alpha-short-onnxruntime?",
                                 *(f"*test_streaming_tts?{v}-jf_alpha-short-mlx?" for v in ("bf16", "8bit", "6bit", "4bit")),
                                 "5 tests collected*"])
    alone = suite.runpytest("--collect-only", "-q", "--kokoro-engine=mlx", "--kokoro-texts=short")
    alone.stdout.fnmatch_lines(["*test_streaming_tts?bf16-jf_alpha-short?", "*test_streaming_tts?4bit-jf_alpha-short?",
                                "4 tests collected*"])


@pytest.mark.skipif(sherpa_library_dir() is None,
                    reason="needs sherpa-onnx's C library: pip install sherpa-onnx-core==2.0.1")
def test_host_runs_both_engines_and_results_name_them(suite):
    """Real model on both engines in one run, one harness each; every result names its engine and onnxruntime."""
    result = suite.runpytest_subprocess("--kokoro-engine=onnxruntime,sherpa-onnx", "--kokoro-texts=short",
                                        "--kokoro-rounds=1")
    result.assert_outcomes(passed=2)
    _, results = results_of(suite)
    by_engine = {r["engine"]: r for r in results}
    assert set(by_engine) == {"onnxruntime", "sherpa-onnx"}
    assert by_engine["onnxruntime"]["onnxruntime_version"] == "1.32.0"
    assert by_engine["sherpa-onnx"]["engine_version"].startswith("sherpa-onnx 2.0.1")
    assert by_engine["sherpa-onnx"]["onnxruntime_version"] in by_engine["sherpa-onnx"]["engine_version"]
    assert by_engine["onnxruntime"]["chunk_count"] == by_engine["sherpa-onnx"]["chunk_count"]


@pytest.mark.skipif(shutil.which("swift") is None or sherpa_library_dir() is None,
                    reason="needs the Swift toolchain and sherpa-onnx's C library (pip install sherpa-onnx-core==2.0.1)")
def test_swift_device_measures_the_real_model(suite):
    """--device=swift runs the real Kokoro-82M int8 through sherpa-onnx by default, with the host's voices."""
    result = suite.runpytest_subprocess("--kokoro-device=swift", "--kokoro-texts=short", "--kokoro-rounds=1")
    result.assert_outcomes(passed=1)
    assert "SIMULATED" not in result.stdout.str()
    _, results = results_of(suite)
    (r,) = results
    assert (r["engine"], r["variant"], r["voice"], r["simulated"]) == ("sherpa-onnx", "int8", "jf_alpha", False)
    assert r["memory_source"] == "VmHWM" and r["peak_memory_gb"] > 0.1


def test_ini_keys_configure_the_run(suite):
    suite.makeini("[pytest]\nkokoro_texts = short\nkokoro_variants = int8,fp32\nkokoro_rounds = 1\n")
    result = suite.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["*int8-jf_alpha-short*", "*fp32-jf_alpha-short*", "2 tests collected*"])


def test_host_run_end_to_end(suite):
    """Real model: results file, WAVs, pytest-benchmark JSON with RTF/TTFA entries, summary, a skip with a reason."""
    result = suite.runpytest_subprocess("--kokoro-texts=short", "--kokoro-rounds=2", "--kokoro-variants=int8,fp16",
                                        "--kokoro-wav", "--benchmark-json=bench.json", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*Kokoro benchmark on host*",
        "case*rounds*TTFA s*RTF*inference s*load s*peak GiB*chunks*intelligibility*min–max",
        "int8-jf_alpha-short*2*",
        "results: results/benchmark_results_*.json",
        "*SKIPPED*fp16-jf_alpha-short*--kokoro-model fp16=PATH*",
    ])
    path, results = results_of(suite)
    assert len(load_results_file(path, harness=True)) == 2
    assert [r["round"] for r in results] == [0, 1] and [r["cold"] for r in results] == [True, False]
    assert all(r["device"] == "host" and r["case"] == "int8-jf_alpha-short" and r["simulated"] is False for r in results)
    assert sorted(p.name for p in (suite.path / "results").glob("*.wav")) == [
        "01_Kokoro-82M-int8_jf_alpha.wav", "02_Kokoro-82M-int8_jf_alpha.wav"]

    bench = json.loads((suite.path / "bench.json").read_text())
    entries = {b["name"]: b for b in bench["benchmarks"]}
    base = "test_streaming_tts[int8-jf_alpha-short]"
    assert set(entries) == {base, base + "::rtf", base + "::ttfa"}
    for name, key in ((base, "inference_time"), (base + "::rtf", "real_time_factor"), (base + "::ttfa", "time_to_first_audio")):
        stats = entries[name]["stats"]
        assert stats["rounds"] == 2
        assert sorted(stats["data"]) == pytest.approx(sorted(r[key] for r in results)), name
    assert entries[base]["options"]["timer"] == "harness_clock"
    assert bench["machine_info"]["kokoro_device"]["engine"] == "onnxruntime"

    compare = subprocess.run([str(Path(sys.executable).parent / "pytest-benchmark"), "compare", str(suite.path / "bench.json")],
                             capture_output=True, text=True)
    assert compare.returncode == 0, compare.stderr
    assert "::rtf" in compare.stdout and "::ttfa" in compare.stdout


def test_compare_fail_works_against_a_saved_run(suite):
    storage = f"file://{suite.path / 'bench-store'}"
    first = suite.runpytest_subprocess("--kokoro-texts=short", "--kokoro-rounds=2", "--no-kokoro-warmup",
                                       "--benchmark-autosave", f"--benchmark-storage={storage}")
    first.assert_outcomes(passed=1)
    second = suite.runpytest_subprocess("--kokoro-texts=short", "--kokoro-rounds=2", "--no-kokoro-warmup",
                                        f"--benchmark-storage={storage}", "--benchmark-compare=0001",
                                        "--benchmark-compare-fail=min:1000%")
    second.assert_outcomes(passed=1)
    second.stdout.fnmatch_lines(["*test_streaming_tts?int8-jf_alpha-short? (0001*"])
    assert all(r["warmup"] is False for r in json.loads(sorted((suite.path / "results").glob("*.json"))[-1].read_text()))


def test_unknown_voice_fails_with_what_is_available(suite):
    result = suite.runpytest_subprocess("--kokoro-texts=short", "--kokoro-rounds=1", "--kokoro-voices=nope,jf_alpha")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*voice 'nope' is not available; available: jf_alpha*"])


@pytest.mark.skipif(shutil.which("swift") is None, reason="needs the Swift toolchain")
def test_swift_device_end_to_end(suite):
    """The Swift CLI harness (SIMULATED scripted engine on Linux) through the same plugin and checks."""
    result = suite.runpytest_subprocess("--kokoro-device=swift", "--kokoro-engine=scripted",
                                        "--kokoro-texts=default", "--kokoro-rounds=1",
                                        "--kokoro-variants=bf16,4bit")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*SIMULATED engine*"])
    path, results = results_of(suite)
    load_results_file(path, harness=True)
    assert [r["model_name"] for r in results] == ["mlx-community/Kokoro-82M-bf16", "mlx-community/Kokoro-82M-4bit"]
    assert all(r["simulated"] is True and r["chunk_count"] == 2 for r in results)


def test_the_mlx_engine_off_a_mac_waits_longer_for_a_chunk(pytester):
    """MLX's CPU backend takes minutes per chunk: the default wait grows unless the user set one."""
    import sys

    from pytest_kokoro.core.engines import HOST_ENGINES
    from pytest_kokoro.devices.registry import kind
    from pytest_kokoro.plugin.options import timeout

    host, mlx_wait = kind("host"), HOST_ENGINES.get("mlx").cpu_timeout
    config = pytester.parseconfig("--kokoro-engine=mlx")
    assert mlx_wait == 1800.0
    assert timeout(config, host, ["mlx"]) == (120.0 if sys.platform == "darwin" else mlx_wait)
    assert timeout(config, host, ["onnxruntime"]) == 120.0
    assert timeout(config, host, ["onnxruntime", "mlx"]) == (120.0 if sys.platform == "darwin" else mlx_wait)
    assert timeout(pytester.parseconfig("--kokoro-timeout=30"), host, ["mlx"]) == 30.0
