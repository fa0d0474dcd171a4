"""Tests of pytest_kokoro.gates.baselines: identities, named baselines per identity, atomic saves, typed errors."""

from __future__ import annotations

import json
import os
from datetime import datetime

import pytest

from pytest_kokoro.gates.baselines import (
    BaselineFormatError,
    BaselineMismatchError,
    BaselineNameError,
    BaselineNotFoundError,
    BaselineStore,
    DeviceIdentity,
    IdentityError,
)

IPHONE = DeviceIdentity(
    device_model="iPhone15,2", os_version="iOS 18.1", harness_version="0.1.0", engine="mlx", variant_sha256=None
)
LINUX = DeviceIdentity(
    device_model="x86_64",
    os_version="Linux",
    harness_version="0.1.0",
    engine="onnxruntime",
    variant_sha256="6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb",
)
CASES = {
    "int8-jf_alpha-short": {"rtf": [0.35, 0.36, 0.34], "ttfa": [0.9, 0.95, 0.92], "inference": [1.2, 1.3, 1.25]},
    "int8-jm_kumo-long": {"rtf": [0.4, 0.41, 0.39], "ttfa": [1.1, 1.0, 1.05], "inference": [3.0, 3.1, 2.9]},
}


@pytest.fixture
def store(tmp_path):
    return BaselineStore(tmp_path / "baselines")


def files_under(path):
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())


# ------------------------------------------------------------------------------------------------ identity


def test_identity_from_result_reads_the_extra_keys():
    result = {"model_name": "kokoro-v1.0.int8", "real_time_factor": 0.3, "platform": "linux", **LINUX.to_dict()}
    assert DeviceIdentity.from_result(result) == LINUX


def test_identity_from_result_names_missing_keys():
    with pytest.raises(IdentityError, match="os_version, engine"):
        DeviceIdentity.from_result({"device_model": "x86_64", "harness_version": "0.1.0"})


def test_slugs_are_filesystem_safe_and_distinct_per_identity():
    other_variant = DeviceIdentity(**{**LINUX.to_dict(), "variant_sha256": "0" * 64})
    assert LINUX.slug() != other_variant.slug()
    assert IPHONE.slug().startswith("iPhone15-2_iOS-18.1_mlx_")
    assert "/" not in IPHONE.slug() and " " not in IPHONE.slug()


# ------------------------------------------------------------------------------------------------ save and load


def test_save_load_round_trip(store):
    path = store.save("main", LINUX, CASES)
    assert path == store.root / LINUX.slug() / "main.json"
    baseline = store.load("main", LINUX)
    assert baseline.name == "main"
    assert baseline.identity == LINUX
    assert baseline.cases == CASES
    assert baseline.path == path
    assert datetime.fromisoformat(baseline.created).tzinfo is not None


def test_saved_file_has_the_documented_shape(store):
    path = store.save("main", IPHONE, CASES)
    document = json.loads(path.read_text())
    assert list(document) == ["name", "identity", "created", "cases"]
    assert document["identity"] == IPHONE.to_dict()
    assert document["cases"] == CASES


def test_load_by_path_with_the_same_identity(store):
    path = store.save("main", LINUX, CASES)
    assert store.load(path, LINUX).cases == CASES
    assert store.load(str(path), LINUX).cases == CASES


def test_save_replaces_an_existing_baseline(store):
    store.save("main", LINUX, CASES)
    store.save("main", LINUX, {"only": {"rtf": [0.5, 0.5, 0.5]}})
    assert store.load("main", LINUX).cases == {"only": {"rtf": [0.5, 0.5, 0.5]}}
    assert store.names(LINUX) == ["main"]


def test_baselines_are_kept_apart_per_identity(store):
    store.save("main", LINUX, CASES)
    store.save("main", IPHONE, {"bf16-af_heart-short": {"rtf": [0.2, 0.21, 0.22]}})
    assert store.load("main", LINUX).cases == CASES
    assert list(store.load("main", IPHONE).cases) == ["bf16-af_heart-short"]


# ------------------------------------------------------------------------------------------------ errors


def test_baseline_from_another_device_is_refused_with_both_devices_named(store):
    path = store.save("phone", IPHONE, CASES)
    with pytest.raises(BaselineMismatchError) as error:
        store.load(path, LINUX)
    message = str(error.value)
    expected = "baseline was recorded on iPhone15,2 iOS 18.1, this run is on x86_64 Linux: compare like with like"
    assert expected in message
    assert "device_model: 'iPhone15,2' vs 'x86_64'" in message
    assert "engine: 'mlx' vs 'onnxruntime'" in message
    assert "harness_version" not in message  # equal fields are not noise in the message


def test_baseline_from_another_harness_version_on_the_same_device_is_refused(store):
    path = store.save("main", LINUX, CASES)
    newer_harness = DeviceIdentity(**{**LINUX.to_dict(), "harness_version": "0.2.0"})
    with pytest.raises(BaselineMismatchError, match="harness_version: '0.1.0' vs '0.2.0'") as error:
        store.load(path, newer_harness)
    assert "different setup" in str(error.value)


def test_missing_named_baseline_lists_the_ones_that_exist(store):
    store.save("nightly", LINUX, CASES)
    store.save("main", LINUX, CASES)
    with pytest.raises(BaselineNotFoundError) as error:
        store.load("release", LINUX)
    message = str(error.value)
    assert "no baseline named 'release' for x86_64 Linux" in message
    assert "baselines for this setup: main, nightly" in message


def test_missing_named_baseline_in_an_empty_store(store):
    with pytest.raises(BaselineNotFoundError, match="no baselines are recorded for this setup yet"):
        store.load("main", LINUX)


def test_missing_named_baseline_mentions_the_same_name_on_other_setups(store):
    store.save("main", IPHONE, CASES)
    with pytest.raises(BaselineNotFoundError, match=r"'main' exists for other setups, which are not comparable \(iPhone15,2 iOS 18.1: device_model: "
                                                        r"'iPhone15,2' vs 'x86_64'.*record it for this one with "
                                                        r"--kokoro-save-baseline main"):
        store.load("main", LINUX)


def test_missing_baseline_path(store, tmp_path):
    with pytest.raises(BaselineNotFoundError, match="no baseline file at"):
        store.load(tmp_path / "nowhere.json", LINUX)


@pytest.mark.parametrize("name", ["../evil", "a/b", "", ".hidden", "main.json", "with space", "x" * 101])
def test_invalid_names_are_refused(store, name):
    with pytest.raises(BaselineNameError, match="invalid baseline name"):
        store.save(name, LINUX, CASES)
    assert not store.root.exists()


@pytest.mark.parametrize(
    ("cases", "message"),
    [
        ({"case": {"rtf": [0.3, float("nan")]}}, "not a finite number"),
        ({"case": {"real_time_factor": [0.3]}}, "unknown metric 'real_time_factor'"),
        ({"case": {"rtf": "0.3"}}, "must be a list of numbers"),
        ({"case": [0.3]}, "must map metric names"),
    ],
)
def test_malformed_cases_are_refused_before_writing(store, cases, message):
    with pytest.raises(BaselineFormatError, match=message):
        store.save("main", LINUX, cases)
    assert not store.root.exists() or files_under(store.root) == []


def test_corrupt_baseline_file_names_its_path(store):
    path = store.path_for("main", LINUX)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(BaselineFormatError, match="cannot read baseline .*main.json"):
        store.load("main", LINUX)


# ------------------------------------------------------------------------------------------------ atomicity


def test_save_leaves_no_temp_files(store):
    store.save("main", LINUX, CASES)
    store.save("main", LINUX, CASES)
    assert files_under(store.root) == [f"{LINUX.slug()}/main.json"]


def test_failed_save_keeps_the_old_baseline_and_leaves_no_temp_files(store, monkeypatch):
    path = store.save("main", LINUX, CASES)
    before = path.read_text()

    def crash(*args):
        raise OSError("disk vanished")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk vanished"):
        store.save("main", LINUX, {"other": {"rtf": [1.0, 1.0, 1.0]}})
    assert path.read_text() == before
    assert files_under(store.root) == [f"{LINUX.slug()}/main.json"]
