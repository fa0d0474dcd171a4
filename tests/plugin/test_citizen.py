"""pytest-kokoro installed beside other projects: it changes nothing where no kokoro case runs, takes no option
name a project may have, and works without its optional plugins."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SUITE = (ROOT / "benchmarks" / "test_kokoro.py").read_text()
def kokoro_files(path):
    """What pytest-kokoro writes when it runs: results (with harness logs) and baselines."""
    return [p for p in path.rglob("*") if p.name in ("results", "kokoro-baselines", "logs") or "benchmark_results" in p.name]


HEAVY = ("numpy", "pydantic", "onnxruntime", "pymobiledevice3", "hypothesis", "kokoro_onnx", "xdist", "scipy", "matplotlib",
         "jinja2")


def test_a_project_with_its_own_device_option_runs_with_the_plugin_installed(pytester):
    pytester.makeconftest("""
        def pytest_addoption(parser):
            parser.addoption("--device", default="cpu", help="this project's own: cpu or cuda")
    """)
    pytester.makepyfile(test_mine="""
        def test_device(request):
            assert request.config.getoption("device") == "cuda"
    """)
    result = pytester.runpytest_subprocess("--device=cuda", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not kokoro_files(pytester.path), "the plugin left files in a project that ran no kokoro case"


def test_an_unrelated_benchmark_run_gets_no_harness_no_folder_and_no_machine_info_key(pytester):
    pytester.makepyfile(test_mine="""
        def test_sum(benchmark):
            assert benchmark(sum, range(100)) == 4950
    """)
    result = pytester.runpytest_subprocess("--benchmark-json=out.json", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    machine_info = json.loads((pytester.path / "out.json").read_text())["machine_info"]
    assert not [key for key in machine_info if key.startswith("kokoro")], machine_info
    assert not kokoro_files(pytester.path)
    assert "== kokoro" not in result.stdout.str()


def test_importing_the_plugin_imports_no_heavy_library():
    code = f"import sys, pytest_kokoro.plugin; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", f"imported at pytest start: {done.stdout.strip()}"


def test_this_suite_still_spells_it_device():
    """The project's conftest.py adds --device for its suite: `pytest benchmarks/ --device=...`."""
    done = subprocess.run([sys.executable, "-m", "pytest", "benchmarks/test_kokoro.py", "--device=swift",
                           "--kokoro-engine=scripted", "--co", "-q", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_streaming_tts[bf16-af_heart-default]" in done.stdout
    done = subprocess.run([sys.executable, "-m", "pytest", "benchmarks/test_kokoro.py", "--device=android", "--co",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR and "unknown device 'android'" in done.stderr


@pytest.mark.parametrize("command", [["pytest"], [sys.executable, "-m", "pytest"]], ids=["pytest", "python -m pytest"])
def test_the_tests_run_both_ways(command):
    """`pytest tests/` (no current directory on sys.path) and `python -m pytest tests/` both import tests.conftest."""
    bindir = ROOT / ".venv" / "bin"
    if command == ["pytest"]:
        command = [str(bindir / "pytest") if (bindir / "pytest").exists() else "pytest"]
    done = subprocess.run([*command, "tests/plugin/test_citizen.py", "--co", "-q", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_kokoro_cases_run_without_pytest_benchmark_and_say_what_is_missing(pytester):
    pytester.makepyfile(test_kokoro=SUITE)
    result = pytester.runpytest_subprocess("-p", "no:benchmark", "-p", "no:cacheprovider", "--kokoro-texts=short",
                                           "--kokoro-rounds=1")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*pytest-benchmark is not active (-p no:benchmark, or not installed)*"])
    assert len(json.loads(next((pytester.path / "results").glob("benchmark_results_*.json")).read_text())) == 1


def test_the_host_device_without_its_extra_names_the_install_command(pytester):
    pytester.makeconftest("import sys\nsys.modules['onnxruntime'] = None  # as if the host extra were not installed\n")
    pytester.makepyfile(test_kokoro=SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--kokoro-texts=short", "--kokoro-rounds=1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # said once, before any case
    result.stderr.fnmatch_lines(["*the host device needs pytest-kokoro's 'host' extra*onnxruntime is not installed: "
                                 "pip install 'pytest-kokoro?host?'*"])


def test_several_workers_never_share_one_machine_between_host_harnesses(pytester):
    pytester.makepyfile(test_kokoro=SUITE)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "--kokoro-texts=short,default")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*2 pytest-xdist workers would start 2 host harnesses on this machine's cores, and "
                                 "they would measure each other*"])
    assert "AttributeError" not in result.stdout.str()
    assert not (pytester.path / "results").exists()
