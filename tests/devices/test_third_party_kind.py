"""A device kind from a third-party package, found by entry point, runs the whole suite with zero edits to
pytest_kokoro: results, pytest-benchmark JSON, the summary, the HTML report, a gate against a saved baseline, and
pytest-xdist with two of its devices.

The package is written to a temporary folder, with the .dist-info an installer would write (METADATA and
entry_points.txt), and put on PYTHONPATH: importlib.metadata finds it exactly as it finds an installed one. Its
harness is the SIMULATED scripted harness of tests/support (the real harness loop over a scripted engine): its
numbers test the plugin, they are not Kokoro measurements.
"""

from __future__ import annotations

import json
import os
import textwrap

import pytest

from pytest_kokoro.devices.registry import kinds
from tests.conftest import ROOT

SUITE = (ROOT / "benchmarks" / "test_kokoro.py").read_text()
SCRIPTED_HARNESS = ROOT / "tests" / "support" / "faulty_harness.py"

PACKAGE = f'''
"""A lab bench: one SIMULATED scripted harness per bench, named lab:BENCH,BENCH."""
import sys
from pathlib import Path

from pytest_kokoro.core.options import Option, positive_int
from pytest_kokoro.devices.base import DeviceKind, DeviceRun, DeviceSpec, WorkerSetupError
from pytest_kokoro.devices.subprocess import SubprocessDevice


class LabKind(DeviceKind):
    name = "lab"
    usage = "lab or lab:BENCH[,BENCH...]"
    description = "a lab bench (SIMULATED scripted harness)"
    variants = ("int8",)
    voices = ("jf_alpha",)
    order = 5
    options = (Option("--kokoro-lab-shelf", positive_int, "lab: the shelf the benches stand on", default=1),)

    def parse_targets(self, text):
        return tuple(t.strip() for t in text.split(",") if t.strip())

    def for_worker(self, spec, index, count):
        if index >= len(spec.targets):
            raise WorkerSetupError(f"worker gw{{index}} has no bench: -n {{len(spec.targets)}}")
        return DeviceSpec(self.name, (spec.targets[index],))

    def open(self, spec, settings, engine):
        shelf = settings.option("kokoro_lab_shelf")
        run = DeviceRun(lambda: SubprocessDevice(spec.label, [sys.executable, {str(SCRIPTED_HARNESS)!r}],
                                                 settings.results_dir / "logs" / "lab-harness.log"))
        run.notes.append(f"lab: benches {{','.join(spec.targets) or 'any'}} on shelf {{shelf}}")
        run.facts.update({{bench: {{"shelf": shelf}} for bench in spec.targets}})
        return run

    def machine_info(self, facts, results):
        return {{"kokoro_lab_benches": facts}}


KIND = LabKind()
'''


@pytest.fixture
def lab(pytester, monkeypatch):
    """The suite, and the third-party package on PYTHONPATH as an installed distribution."""
    site = pytester.mkdir("site")
    (site / "kokoro_lab_device.py").write_text(PACKAGE)
    info = site / "kokoro_lab_device-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kokoro-lab-device\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[pytest_kokoro.devices]\nlab = kokoro_lab_device:KIND\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), str(ROOT)]))
    pytester.makepyfile(test_kokoro=SUITE)
    return pytester


def benchmark_json(pytester, name):
    return json.loads((pytester.path / name).read_text())


def test_the_kind_is_unknown_without_the_package():
    assert "lab" not in kinds()


def test_a_third_party_kind_runs_the_suite_end_to_end(lab):
    common = ("-p", "no:randomly", "--kokoro-device=lab:bench1", "--kokoro-texts=short", "--kokoro-rounds=5",
              "--kokoro-lab-shelf=3")
    saved = lab.runpytest_subprocess(*common, "--kokoro-save-baseline=main", "--benchmark-json=first.json",
                                     "--kokoro-report=report.html")
    saved.assert_outcomes(passed=1)
    saved.stdout.fnmatch_lines(["*kokoro lab*", "lab: benches bench1 on shelf 3",
                                "Kokoro benchmark on lab:bench1*SIMULATED*", "int8-jf_alpha-short*5*",
                                "results: *benchmark_results_*.json", "report: report.html", "baseline saved: *"])
    results = json.loads(next((lab.path / "results").glob("benchmark_results_*.json")).read_text())
    assert len(results) == 5 and {r["device"] for r in results} == {"lab:bench1"}
    first = benchmark_json(lab, "first.json")
    assert first["machine_info"]["kokoro_lab_benches"] == {"bench1": {"shelf": 3}}
    assert {b["group"] for b in first["benchmarks"]} == {None, "rtf", "ttfa"}
    page = (lab.path / "report.html").read_text()
    assert "lab:bench1" in page and "<svg" in page

    gated = lab.runpytest_subprocess(*common, "--kokoro-baseline=main")
    gated.assert_outcomes(passed=1)
    gated.stdout.fnmatch_lines(["gate int8-jf_alpha-short: rtf* vs baseline *", "gate int8-jf_alpha-short: ttfa* vs baseline *"])


def test_two_devices_of_the_kind_one_xdist_worker_each(lab):
    result = lab.runpytest_subprocess("-p", "no:randomly", "--kokoro-device=lab:bench1,bench2", "-n", "2",
                                      "--kokoro-texts=short", "--kokoro-rounds=1",
                                      "--kokoro-variants=int8", "--kokoro-voices=jf_alpha", "--dist=each")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*kokoro (all workers)*", "results: *benchmark_results_*.json"])
    results = json.loads(next((lab.path / "results").glob("benchmark_results_*.json")).read_text())
    assert sorted(r["device"] for r in results) == ["lab:bench1", "lab:bench2"]
    merged = json.loads(next((lab.path / "results").glob("pytest_benchmark_*.json")).read_text())
    assert merged["machine_info"]["kokoro_lab_benches"] == {"bench1": {"shelf": 1}, "bench2": {"shelf": 1}}


def test_help_shows_the_kind_and_its_option(lab):
    result = lab.runpytest_subprocess("--help")
    shown = " ".join(result.stdout.str().split())
    assert "lab or lab:BENCH[,BENCH...]: a lab bench (SIMULATED scripted harness)" in shown
    assert "--kokoro-lab-shelf=VALUE lab: the shelf the benches stand on (default: 1)" in shown


def test_an_unknown_device_lists_the_third_party_kind(lab):
    result = lab.runpytest_subprocess("--kokoro-device=android")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([textwrap.dedent("*unknown device 'android': use host, lab or lab:BENCH*")])
