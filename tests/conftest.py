import json
from pathlib import Path

import pytest

# pytester for the project's own tests only: in pyproject's addopts it would put --lsof and --runpytest into the
# --help of `pytest benchmarks/`, which users read.
pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures" / "reference"


def load_spec(name: str):
    return json.loads((SPEC / name).read_text(encoding="utf-8"))


def results_of(pytester) -> tuple[Path, list[dict]]:
    """The one results file a pytester run wrote to results/, and its rows."""
    files = sorted((pytester.path / "results").glob("benchmark_results_*.json"))
    assert len(files) == 1, files
    return files[0], json.loads(files[0].read_text())


@pytest.fixture
def reference_fixture():
    path = SHARED_FIXTURES / "benchmark_results_20250827_165749.json"
    if not path.is_file():
        pytest.skip(f"{path} is not there: CI runs with ../shared beside the checkout")
    return path
