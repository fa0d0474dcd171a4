"""pytest-kokoro installed beside other projects: it changes nothing where no kokoro case runs, takes no option
name a project may have, and works without its optional plugins."""

import json
import os
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


# What pytest start-up in any project with pytest-kokoro installed must not pay for: the heavy libraries and our own
# modules that import them (quality: numpy; the session and the subprocess devices: the harness machinery).
NOT_AT_START_UP = ("numpy", "pydantic", "onnxruntime", "pymobiledevice3", "mlx", "scipy", "pytest_kokoro.quality",
                   "pytest_kokoro.runner.session", "pytest_kokoro.devices.subprocess")


def imported_modules(importtime_stderr: str) -> set[str]:
    """The modules `python -X importtime` reports ("import time: self | cumulative | module", nested by indent). It
    logs `import` statements only: a module loaded by importlib.import_module (as pytest loads an entry point) is
    missing, its own imports are not, so a name is matched with its submodules too."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    names.discard("imported package")  # the header line
    return names


def test_pytest_start_up_in_an_unrelated_project_imports_no_heavy_module(pytester):
    """The plugin is loaded through its pytest11 entry point, as in any project that installed it; this checkout's
    pytest_kokoro comes first on the path (the installed one may be another checkout's)."""
    pytester.makepyfile(test_mine="""
        def test_sum():
            assert sum(range(4)) == 6
    """)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_PLUGINS", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"],
                          cwd=pytester.path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "1 test collected" in done.stdout, done.stdout
    imported = imported_modules(done.stderr)
    assert any(name.startswith("pytest_kokoro.plugin.") for name in imported), \
        "the plugin was not loaded: the check below would prove nothing"
    heavy = [m for m in NOT_AT_START_UP if any(name == m or name.startswith(m + ".") for name in imported)]
    assert not heavy, f"imported at pytest start-up in a project without kokoro cases: {heavy}"


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
