import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures" / "reference"


def load_spec(name: str):
    return json.loads((SPEC / name).read_text(encoding="utf-8"))


@pytest.fixture
def reference_fixture():
    path = SHARED_FIXTURES / "benchmark_results_20250827_165749.json"
    if not path.is_file():
        pytest.skip(f"{path} is not there: CI runs with ../shared beside the checkout")
    return path
