"""docs/architecture.md's recipes stay true: every file they name exists, every `path: name` names something defined
in that file, and the contracts it quotes are the ones lint-imports keeps."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

DOC = (ROOT / "docs" / "architecture.md").read_text()
RECIPES = DOC[DOC.index("## Recipes"):]


def test_every_file_a_recipe_names_exists():
    paths = set(re.findall(r"`((?:pytest_kokoro|ios-harness|tests|spec|docs)/[\w/.-]+|pyproject\.toml|constraints\.txt)"
                           r"(?::[^`]*)?`", RECIPES))
    assert len(paths) > 15
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing


def test_every_name_a_recipe_gives_is_defined_in_its_file():
    named = re.findall(r"`([\w/.-]+\.(?:py|swift)): (\w+)`", RECIPES)
    assert len(named) >= 10
    for path, name in named:
        text = (ROOT / path).read_text()
        assert re.search(rf"^\s*(?:class|def|func|struct|let|var)?\s*{name}\b", text, re.M), f"{name} not in {path}"


def test_the_contracts_quoted_are_the_ones_kept():
    quoted = re.findall(r"^(.+) KEPT$", DOC, re.M)
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    kept = re.findall(r"^(.+) KEPT$", done.stdout, re.M)
    assert quoted == kept
