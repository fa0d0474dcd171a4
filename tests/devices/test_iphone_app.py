"""The iOS app's build files, read as a user's Mac would: ios-harness/App/generate (run here with a SIMULATED
`xcodegen` on PATH that only records what it was asked), project.yml and the committed Package.resolved. No Xcode
runs here; these check what a first build on a Mac depends on."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "ios-harness" / "App"
SPEC = (APP / "project.yml").read_text()
RESOLVED = json.loads((APP / "Package.resolved").read_text())


@pytest.fixture
def app_copy(tmp_path):
    """The App folder's generate inputs in a scratch folder, and a SIMULATED xcodegen that records its arguments."""
    folder = tmp_path / "App"
    folder.mkdir()
    for name in ("generate", "project.yml", "Package.resolved"):
        shutil.copy2(APP / name, folder / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "xcodegen"
    fake.write_text('#!/bin/sh\necho "$@" > xcodegen-args\nmkdir -p KokoroBench.xcodeproj\n')
    fake.chmod(0o755)
    return folder, bin_dir


def generate(folder: Path, bin_dir: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", **env}
    return subprocess.run(["sh", str(folder / "generate")], env=environment, capture_output=True, text=True,
                          timeout=30)


@pytest.mark.parametrize("env, message", [
    ({"KOKORO_BUNDLE_ID": "com.example.KokoroBench"}, "set KOKORO_TEAM_ID to your Apple team id"),
    ({"KOKORO_TEAM_ID": "abc", "KOKORO_BUNDLE_ID": "com.example.KokoroBench"}, "is not a team id: 10 upper-case"),
    ({"KOKORO_TEAM_ID": "ABCDE12345"}, "set KOKORO_BUNDLE_ID to a bundle id of your own"),
    ({"KOKORO_TEAM_ID": "ABCDE12345", "KOKORO_BUNDLE_ID": "KokoroBench"}, "is not a bundle id"),
])
def test_generate_refuses_without_your_team_and_bundle_id(app_copy, env, message):
    folder, bin_dir = app_copy
    done = generate(folder, bin_dir, **env)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (folder / "xcodegen-args").exists(), "XcodeGen must not run with a bundle id that cannot sign"


def test_generate_runs_xcodegen_and_pins_the_resolved_versions(app_copy):
    folder, bin_dir = app_copy
    done = generate(folder, bin_dir, KOKORO_TEAM_ID="ABCDE12345", KOKORO_BUNDLE_ID="com.example.KokoroBench")
    assert done.returncode == 0, done.stderr
    assert (folder / "xcodegen-args").read_text().split() == ["generate", "--spec", "project.yml"]
    placed = folder / "KokoroBench.xcodeproj/project.xcworkspace/xcshareddata/swiftpm/Package.resolved"
    assert json.loads(placed.read_text()) == RESOLVED
    assert "team ABCDE12345, bundle id com.example.KokoroBench" in done.stdout


def test_generate_without_xcodegen_says_how_to_install_it(app_copy, tmp_path):
    folder, _ = app_copy
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    done = generate(folder, empty, KOKORO_TEAM_ID="ABCDE12345", KOKORO_BUNDLE_ID="com.example.KokoroBench")
    assert done.returncode == 2 and "brew install xcodegen" in done.stderr


def test_the_spec_takes_team_and_bundle_id_from_the_environment():
    # XcodeGen expands ${VAR} from the environment (SpecFile.swift expand(variables:)); ./generate checks they are set.
    assert "PRODUCT_BUNDLE_IDENTIFIER: ${KOKORO_BUNDLE_ID}" in SPEC
    assert "DEVELOPMENT_TEAM: ${KOKORO_TEAM_ID}" in SPEC
    assert "dev.pytest-kokoro" not in SPEC, "no bundle id of ours: an App ID belongs to one team"


def test_run_profile_and_archive_build_release():
    schemes = SPEC[SPEC.index("\nschemes:"):]
    for action in ("run", "profile", "archive"):
        block = re.search(rf"\n    {action}:\n((?:      .*\n)+)", schemes)
        assert block and "config: Release" in block.group(1), action


def test_every_build_gets_a_new_build_id_before_signing():
    script = SPEC[SPEC.index("postBuildScripts:"):SPEC.index("    dependencies:")]
    assert "basedOnDependencyAnalysis: false" in script, "the stamp must run on every build, not only when inputs change"
    assert "Set :KokoroBuildID" in script and "uuidgen" in script
    assert "${TARGET_BUILD_DIR}" not in script, "XcodeGen would expand ${...} itself at generate time"
    assert "KokoroBuildID: unstamped" in SPEC and "CFBundleVersion: $(CURRENT_PROJECT_VERSION)" in SPEC


def test_the_resolved_versions_are_the_ones_the_stubs_copy():
    pins = {pin["identity"]: pin["state"] for pin in RESOLVED["pins"]}
    stubs = (ROOT / "ios-harness" / "AppCheck" / "Package.swift").read_text()
    mlx = re.search(r"MLX \(mlx-swift ([0-9a-f]{7})", stubs).group(1)
    lm = re.search(r"MLXLMCommon \(mlx-swift-lm ([0-9a-f]{7})", stubs).group(1)
    audio = re.search(r"MLXAudioTTS \(mlx-audio-swift ([0-9a-f]{7})", stubs).group(1)
    assert pins["mlx-swift"]["revision"].startswith(mlx)
    assert pins["mlx-swift-lm"]["revision"].startswith(lm)
    assert pins["mlx-audio-swift"]["revision"].startswith(audio)
    remote = re.findall(r"\n  (\w+):\n    url: (\S+)\n    (?:#.*\n    )?(\w+): (\S+)", SPEC)
    assert {name for name, *_ in remote} == {"MLXAudio", "MLXSwift"}
    for name, url, kind, value in remote:
        assert kind == "revision", f"{name} must be pinned to a revision, not {kind}"
        identity = url.rstrip("/").removesuffix(".git").rsplit("/", 1)[1].lower()
        assert pins[identity]["revision"] == value, name
    assert all(re.fullmatch(r"[0-9a-f]{40}", state["revision"]) for state in pins.values())


def test_generate_is_executable_as_the_docs_say():
    assert os.access(APP / "generate", os.X_OK)
