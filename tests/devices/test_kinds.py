"""The built-in device kinds, found by entry point like any other, and their engine tables."""

from __future__ import annotations

import re
import shutil

import pytest

from pytest_kokoro.core.engines import HOST_ENGINES, SWIFT_ENGINES
from pytest_kokoro.devices.base import DeviceSettings, DeviceSpec, WorkerSetupError
from pytest_kokoro.devices.registry import UnknownDeviceError, kinds, parse_device
from tests.conftest import ROOT


def test_the_built_in_kinds_register_by_entry_point_in_report_order():
    assert list(kinds())[:1] == ["host"] and {"host", "swift", "iphone"} <= set(kinds())
    assert [k for k in kinds() if k in ("host", "swift", "iphone")] == ["host", "swift", "iphone"]


@pytest.mark.parametrize("text,spec", [
    ("host", DeviceSpec("host")), (" swift ", DeviceSpec("swift")), ("iphone", DeviceSpec("iphone")),
    ("iphone:A, B", DeviceSpec("iphone", ("A", "B"))),
])
def test_specs(text, spec):
    assert parse_device(text) == spec


@pytest.mark.parametrize("text,message", [
    ("android", "unknown device 'android': use host, swift, iphone or iphone:UDID[@HOST:PORT][,UDID[@HOST:PORT]...]"),
    ("iphone:abc@nohost", "after @ comes the usbmuxd of the Mac"),
    ("host:x", "host takes no targets, got host:x"),
])
def test_bad_specs_say_what_to_use(text, message):
    with pytest.raises((UnknownDeviceError, ValueError), match=re.escape(message)):
        parse_device(text)


def test_host_defaults_add_the_users_models():
    host = kinds()["host"]
    settings = DeviceSettings(ROOT, options={"kokoro_model": [("fp16", "/m/fp16.onnx")]})
    assert host.defaults("onnxruntime", settings) == (["int8", "fp16"], ["jf_alpha"])


def test_one_xdist_worker_per_phone_and_none_for_local_harnesses():
    phones = parse_device("iphone:A,B")
    assert kinds()["iphone"].for_worker(phones, 1, 2) == DeviceSpec("iphone", ("B",))
    with pytest.raises(WorkerSetupError, match="worker gw2 has no phone.*-n 2"):
        kinds()["iphone"].for_worker(phones, 2, 3)
    with pytest.raises(WorkerSetupError, match="would measure each other"):
        kinds()["host"].for_worker(parse_device("host"), 0, 2)


def test_the_host_harness_builds_every_engine_of_its_table():
    from pytest_kokoro.harness import server

    args = server._parse_args(["--engine", "onnxruntime"])
    assert server.make_engine(args).name == "onnxruntime"
    with pytest.raises(SystemExit):
        server._parse_args(["--engine", "no-such-engine"])
    for row in HOST_ENGINES.engines:
        module, _, name = row.implementation.partition(":")
        assert re.search(rf"^class {name}\b", (ROOT / (module.replace(".", "/") + ".py")).read_text(), re.M)


def test_the_swift_engine_table_is_the_clis_own_list():
    """The CLI's usage text lists `--engine NAME` for each engine it has; the table must name the same."""
    usage = (ROOT / "ios-harness" / "Sources" / "KokoroBenchHarness" / "main.swift").read_text()
    assert set(re.findall(r"--engine ([\w-]+)\s", usage)) == set(SWIFT_ENGINES.names())


@pytest.mark.skipif(shutil.which("swift") is None, reason="needs the Swift toolchain")
def test_the_swift_cli_refuses_an_engine_outside_the_table(tmp_path):
    import subprocess

    from pytest_kokoro.devices.subprocess import swift_harness_binary

    done = subprocess.run([str(swift_harness_binary(build=False)), "--stdio", "--engine", "mlx"],
                          capture_output=True, text=True, timeout=60, input="")
    assert done.returncode != 0
    for name in SWIFT_ENGINES.names():
        assert f"'{name}'" in done.stderr
