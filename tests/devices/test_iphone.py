"""--device=iphone without a phone: pymobiledevice3's own usbmux client against a SIMULATED usbmuxd (stand-in) that
forwards the app port to the Swift CLI harness (its engine is SIMULATED too). The lockdown services (facts, install,
launch, house_arrest) are a SIMULATED double that raises pymobiledevice3's own exception classes."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from pymobiledevice3 import exceptions as pmd

from pytest_kokoro.devices.iphone import device as iphone
from pytest_kokoro.devices.iphone import errors
from pytest_kokoro.devices.base import DeviceError
from pytest_kokoro.devices.subprocess import swift_harness_binary
from pytest_kokoro.devices.iphone.device import IPhoneDevice
from pytest_kokoro.devices.iphone.services import AppInfo, DeviceFacts, Pymobiledevice3Services
from tests.conftest import results_of

from tests.support.usbmuxd_standin import FakePhone, UsbmuxdStandIn

ROOT = Path(__file__).resolve().parents[2]
UDID_A = "00008110-00SIMULATED0A"
UDID_B = "00008110-00SIMULATED0B"
APP_PORT = 7341


@pytest.fixture(scope="module")
def harness_binary() -> Path:
    try:
        return swift_harness_binary()
    except DeviceError as error:
        pytest.skip(f"the Swift CLI harness is needed behind the usbmuxd stand-in: {error}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SwiftHarness:
    """The Swift CLI harness (SIMULATED engine) serving protocol v1 on a loopback port, like the app on a phone."""

    def __init__(self, binary: Path, port: int = 0):
        self.process = subprocess.Popen([str(binary), "--listen", str(port)], stderr=subprocess.PIPE, text=True)
        for line in self.process.stderr:
            found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                break
        else:
            raise RuntimeError(f"the Swift harness exited with {self.process.wait()} before listening")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.process.stderr.close()


@pytest.fixture
def swift_harness(harness_binary):
    harnesses: list[SwiftHarness] = []

    def start(port: int = 0) -> SwiftHarness:
        harnesses.append(SwiftHarness(harness_binary, port))
        return harnesses[-1]

    yield start
    for harness in harnesses:
        harness.stop()


@pytest.fixture
def usbmuxd(monkeypatch):
    """Start a usbmuxd stand-in for the given SIMULATED phones and point pymobiledevice3 at it."""
    started: list[UsbmuxdStandIn] = []

    def start(*phones: FakePhone) -> UsbmuxdStandIn:
        standin = UsbmuxdStandIn(list(phones)).__enter__()
        started.append(standin)
        monkeypatch.setenv("USBMUXD_SOCKET_ADDRESS", standin.socket_address)
        return standin

    yield start
    for standin in started:
        standin.__exit__(None, None, None)


class SimulatedPhoneServices(Pymobiledevice3Services):
    """SIMULATED lockdown services over the REAL usbmux listing and data channel (inherited from the real class).
    Each ``fail_*`` raises the given pymobiledevice3 exception where the real service would."""

    def __init__(self, facts: DeviceFacts | None = None, app: AppInfo | None = AppInfo("1", "0.1.0"),
                 failures: dict[str, Exception] | None = None):
        super().__init__()
        self.facts = facts
        self.app = app
        self.failures = failures or {}
        self.launched: list[list[str]] = []
        self.killed: list[int] = []
        self.installed: list[Path] = []
        self.on_launch = None
        self.phone_files: dict[str, bytes] = {}

    def _maybe_fail(self, what: str) -> None:
        if what in self.failures:
            raise self.failures[what]

    def device_facts(self, udid):
        self._maybe_fail("facts")
        return self.facts or DeviceFacts(udid, "iPhone16,1", "17.5.1", "SIMULATED phone", True, True, True)

    def installed_app(self, udid, bundle_id):
        self._maybe_fail("installed_app")
        return self.app

    def install(self, udid, package):
        self._maybe_fail("install")
        self.installed.append(package)
        self.app = iphone.package_info(package)[1]

    def launch(self, udid, ios_major, bundle_id, arguments):
        self._maybe_fail("launch")
        self.launched.append(arguments)
        if self.on_launch:
            self.on_launch()
        return 4242

    def kill(self, udid, ios_major, pid):
        self.killed.append(pid)

    def list_results(self, udid, bundle_id):
        self._maybe_fail("list_results")
        return list(self.phone_files)

    def pull_result(self, udid, bundle_id, name):
        return self.phone_files[name]


@pytest.fixture
def services():
    made: list[SimulatedPhoneServices] = []

    def make(**kwargs) -> SimulatedPhoneServices:
        made.append(SimulatedPhoneServices(**kwargs))
        return made[-1]

    yield make
    for service in made:
        service.close()


def device(services_, tmp_path, spec="iphone", launch="auto", **kwargs) -> IPhoneDevice:
    from pytest_kokoro.devices.base import parse_device

    return IPhoneDevice(parse_device(spec), services_, tmp_path, launch=launch, port=APP_PORT, connect_timeout=5,
                        **kwargs)


# -- device selection through the real usbmux client ----------------------------------------------------------------
def test_iphone_no_phone_connected(usbmuxd, services, tmp_path):
    usbmuxd()
    with pytest.raises(errors.NoPhoneError, match="no iPhone is connected: plug one in"):
        device(services(), tmp_path).start(5)


def test_iphone_several_phones_need_a_choice(usbmuxd, services, tmp_path):
    usbmuxd(FakePhone(UDID_A), FakePhone(UDID_B))
    with pytest.raises(errors.SeveralPhonesError) as error:
        device(services(), tmp_path).start(5)
    assert UDID_A in str(error.value) and UDID_B in str(error.value)
    assert f"--kokoro-device=iphone:{UDID_A},{UDID_B} -n 2" in str(error.value)


def test_iphone_chosen_udid_not_connected(usbmuxd, services, tmp_path):
    usbmuxd(FakePhone(UDID_A))
    with pytest.raises(errors.PhoneNotFoundError, match=f"iPhone {UDID_B} is not connected; connected: {UDID_A}"):
        device(services(), tmp_path, spec=f"iphone:{UDID_B}").start(5)


def test_iphone_usbmuxd_not_running(monkeypatch, services, tmp_path):
    monkeypatch.setenv("USBMUXD_SOCKET_ADDRESS", f"127.0.0.1:{free_port()}")
    with pytest.raises(errors.UsbmuxdUnavailableError, match="systemctl start usbmuxd"):
        device(services(), tmp_path).start(5)


# -- every preflight failure names its fix ---------------------------------------------------------------------------
PREFLIGHT = [
    (dict(failures={"facts": pmd.PasswordRequiredError()}), errors.PhoneLockedError, "is locked.*unlock it"),
    (dict(failures={"facts": pmd.NotPairedError()}), errors.PhoneNotTrustedError, "tap Trust"),
    (dict(failures={"facts": pmd.NotTrustedError()}), errors.PhoneNotTrustedError, "lockdown pair"),
    (dict(facts=DeviceFacts(UDID_A, "iPhone16,1", "17.5", None, paired=False)), errors.PhoneNotTrustedError,
     "not paired"),
    (dict(facts=DeviceFacts(UDID_A, "iPhone16,1", "17.5", None, True, developer_mode=False)),
     errors.DeveloperModeOffError, r"Settings > Privacy & Security > Developer Mode"),
    (dict(failures={"launch": pmd.DeveloperModeIsNotEnabledError()}), errors.DeveloperModeOffError,
     "amfi enable-developer-mode"),
    (dict(facts=DeviceFacts(UDID_A, "iPhone14,2", "16.7", None, True, True, image_mounted=False)),
     errors.DiskImageNotMountedError, "mounter auto-mount"),
    (dict(facts=DeviceFacts(UDID_A, "iPhone14,2", "16.7", None, True, True, True),
          failures={"launch": pmd.StartServiceError("com.apple.instruments.remoteserver", "InvalidService")}),
     errors.DiskImageNotMountedError, "mounter auto-mount"),
    (dict(failures={"launch": pmd.TunneldConnectionError()}), errors.TunnelRequiredError,
     "sudo pymobiledevice3 remote tunneld"),
    (dict(failures={"launch": pmd.InvalidServiceError("no dtservicehub", UDID_A, "17.5")}), errors.TunnelRequiredError,
     "--kokoro-launch=manual"),
    (dict(failures={"launch": pmd.RSDRequiredError(UDID_A, "17.5")}), errors.TunnelRequiredError, "iOS 17"),
    (dict(app=None), errors.AppNotInstalledOnPhoneError, "--kokoro-app path/to/KokoroBench.ipa"),
    (dict(failures={"installed_app": pmd.AppNotInstalledError()}), errors.AppNotInstalledOnPhoneError,
     "is not installed"),
]


@pytest.mark.parametrize("double, error_type, message", PREFLIGHT,
                         ids=[f"{p[1].__name__}-{i}" for i, p in enumerate(PREFLIGHT)])
def test_iphone_preflight_message(usbmuxd, services, tmp_path, double, error_type, message):
    usbmuxd(FakePhone(UDID_A))
    phone = services(**double)
    with pytest.raises(error_type, match=message) as error:
        device(phone, tmp_path).start(5)
    assert UDID_A in str(error.value)
    assert phone.launched == [] or error_type is not errors.AppNotInstalledOnPhoneError


def test_iphone_install_failure_is_explained(usbmuxd, services, tmp_path):
    usbmuxd(FakePhone(UDID_A))
    app = make_app(tmp_path, "2")
    phone = services(app=None, failures={"install": pmd.AppInstallError("ApplicationVerificationFailed")})
    with pytest.raises(errors.AppInstallFailedError, match="signed with a profile that includes this phone"):
        device(phone, tmp_path, app=app).start(5)


def make_app(tmp_path: Path, build: str, short: str = "0.1.0", ipa: bool = False) -> Path:
    import plistlib
    import zipfile

    info = plistlib.dumps({"CFBundleIdentifier": iphone.BUNDLE_ID, "CFBundleVersion": build,
                           "CFBundleShortVersionString": short})
    if ipa:
        path = tmp_path / "KokoroBench.ipa"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("Payload/KokoroBench.app/Info.plist", info)
        return path
    path = tmp_path / "KokoroBench.app"
    path.mkdir(exist_ok=True)
    (path / "Info.plist").write_bytes(info)
    return path


# -- install, launch, connect, stop, pull -------------------------------------------------------------------------
@pytest.mark.parametrize("installed, ipa, expect_install", [
    (None, True, True),  # missing
    (AppInfo("1", "0.1.0"), False, True),  # outdated build
    (AppInfo("2", "0.1.0"), True, False),  # the same build: left alone
])
def test_iphone_installs_launches_and_stops(usbmuxd, services, swift_harness, tmp_path, installed, ipa,
                                             expect_install):
    port = free_port()
    usbmuxd(FakePhone(UDID_A, {APP_PORT: port}))
    phone = services(app=installed)
    # The app only starts listening when launched: connect() must retry through ConnectionFailedError.
    phone.on_launch = lambda: swift_harness(port)
    app = make_app(tmp_path, "2", ipa=ipa)
    iphone_device = device(phone, tmp_path, app=app)
    client = iphone_device.start(10)
    assert client.hello["protocol"] == 1
    assert phone.launched == [["--serve", str(APP_PORT)]]
    assert phone.installed == ([app] if expect_install else [])
    outcome = client.run(text="Hi there. This is Kokoro.", voice="af_heart", variant="4bit")
    assert outcome.result["device_udid"] == UDID_A and outcome.result["product_type"] == "iPhone16,1"
    client.shutdown()
    iphone_device.stop()
    assert phone.killed == [4242]


def test_iphone_manual_launch_times_out_with_the_fix(usbmuxd, services, tmp_path):
    usbmuxd(FakePhone(UDID_A))  # nothing listens on the app port
    iphone_device = device(services(), tmp_path, launch="manual")
    iphone_device.connect_timeout = 0.5
    with pytest.raises(errors.AppNotServingError, match=f"nothing listens on port {APP_PORT}.*--serve {APP_PORT}"):
        iphone_device.start(5)


class OldApp:
    """A SIMULATED old app: answers hello with an old harness version or a protocol_mismatch error."""

    def __init__(self, reply: dict):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.reply = reply
        import threading

        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        connection, _ = self.server.accept()
        with connection:
            connection.makefile("rb").readline()
            connection.sendall((json.dumps(self.reply) + "\n").encode())
            connection.recv(100)

    def close(self):
        self.server.close()


HELLO = {"type": "hello", "protocol": 1, "harness": "KokoroBench", "harness_version": "0.0.9", "engine": "mlx",
         "engine_version": "x", "simulated": False, "platform": "iOS", "device_model": "iPhone16,1",
         "os_version": "17.5", "variants": ["bf16"], "voices": ["af_heart"], "sample_rate": 24000}


@pytest.mark.parametrize("reply, message", [
    (HELLO, "it is harness version 0.0.9, this pytest-kokoro 0.1.0 needs 0.1.0 or later"),
    ({"type": "error", "id": None, "code": "protocol_mismatch", "message": "this harness speaks protocol 0",
      "fatal": True}, "refused this host's protocol"),
])
def test_iphone_old_app_is_named_outdated(usbmuxd, services, tmp_path, reply, message):
    old = OldApp(reply)
    try:
        usbmuxd(FakePhone(UDID_A, {APP_PORT: old.port}))
        with pytest.raises(errors.AppOutdatedError, match=re.escape(message) + ".*--kokoro-app"):
            device(services(), tmp_path, launch="manual").start(5)
    finally:
        old.close()


@pytest.mark.parametrize("drop, expected", [
    (False, "match what was streamed"),
    (True, "MISMATCH between the app's results and the stream: the app wrote 1 results, 2 were streamed"),
])
def test_iphone_pulls_and_checks_the_apps_results(usbmuxd, services, swift_harness, tmp_path, drop, expected):
    harness = swift_harness()
    usbmuxd(FakePhone(UDID_A, {APP_PORT: harness.port}))
    phone = services()
    phone.phone_files["benchmark_results_20260101_000000.json"] = b"[]"  # older: not this run's
    iphone_device = device(phone, tmp_path, launch="manual")
    client = iphone_device.start(10)
    for round_index in range(2):
        client.run(text="Hi there. This is Kokoro.", voice="af_heart", variant="8bit", round_index=round_index)
    written = [dict(r) for r in iphone_device.streamed][: 1 if drop else 2]
    phone.phone_files["benchmark_results_20260102_000000.json"] = json.dumps(written).encode()
    client.shutdown()
    iphone_device.stop()
    assert any(expected in note for note in iphone_device.notes), iphone_device.notes
    pulled = tmp_path / f"iphone-{UDID_A}" / "benchmark_results_20260102_000000.json"
    assert json.loads(pulled.read_text()) == written
    assert not (tmp_path / f"iphone-{UDID_A}" / "benchmark_results_20260101_000000.json").exists()


def test_iphone_compare_results_names_the_sentence_timings():
    streamed = [{"model_name": "m", "voice": "v", "per_sentence_inference": [0.1, 0.2]}]
    assert iphone.compare_results(streamed, streamed) == []
    problems = iphone.compare_results([{"per_sentence_inference": [0.1, 0.3]}], streamed)
    assert problems == ["result 0 (m, v): per_sentence_inference [0.1, 0.3] on the phone, [0.1, 0.2] streamed"]


# -- the real pytest run through the plugin -----------------------------------------------------------------------
def run_benchmarks(pytester, *args):
    pytester.makeini("[pytest]\nfilterwarnings =\n    error\n")
    shutil.copy(ROOT / "benchmarks" / "test_kokoro.py", pytester.path / "test_kokoro.py")
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--kokoro-texts", "short", "--kokoro-rounds", "2",
                                         "--kokoro-voices", "af_heart,am_onyx", "--kokoro-variants", "4bit",
                                         "--kokoro-timeout", "20", "--kokoro-results-dir", "results", *args)


def test_iphone_end_to_end_manual_launch(pytester, usbmuxd, swift_harness):
    harness = swift_harness()
    usbmuxd(FakePhone(UDID_A, {APP_PORT: harness.port}))
    outcome = run_benchmarks(pytester, "--kokoro-device=iphone", "--kokoro-launch=manual")
    outcome.assert_outcomes(passed=2)
    _, results = results_of(pytester)
    assert len(results) == 4 and {r["device_udid"] for r in results} == {UDID_A}
    outcome.stdout.fnmatch_lines([f"*iphone {UDID_A}: lockdownd did not answer*"])


def test_iphone_connection_dropped_mid_run_fails_one_test_only(pytester, usbmuxd, swift_harness):
    harness = swift_harness()
    # The stand-in cuts the first forwarded connection after 3 lines from the app: hello, then mid-run.
    usbmuxd(FakePhone(UDID_A, {APP_PORT: harness.port}, cut_connection=0, cut_after_lines=3))
    outcome = run_benchmarks(pytester, "--kokoro-device=iphone", "--kokoro-launch=manual")
    outcome.assert_outcomes(passed=1, failed=1)
    outcome.stdout.fnmatch_lines(["*the harness closed its stream mid-request*usbmux connection to port 7341 of "
                                  f"iPhone {UDID_A} ended*"])
    assert len(results_of(pytester)[1]) == 2


def test_iphone_two_phones_two_workers_one_results_file(pytester, usbmuxd, swift_harness):
    first, second = swift_harness(), swift_harness()
    usbmuxd(FakePhone(UDID_A, {APP_PORT: first.port}), FakePhone(UDID_B, {APP_PORT: second.port}))
    outcome = run_benchmarks(pytester, f"--kokoro-device=iphone:{UDID_A},{UDID_B}", "--kokoro-launch=manual", "-n", "2",
                             "--kokoro-voices", "af_heart,am_onyx,jf_alpha", "--kokoro-variants", "4bit,8bit",
                             "--benchmark-json", "merged.json")
    outcome.assert_outcomes(passed=6)
    _, results = results_of(pytester)
    assert len(results) == 12
    assert {r["device_udid"] for r in results} == {UDID_A, UDID_B}
    assert {r["device"] for r in results} == {f"iphone:{UDID_A}", f"iphone:{UDID_B}"}
    benchmark_files = sorted((pytester.path / "results").glob("pytest_benchmark_*.json"))
    assert len(benchmark_files) == 1
    report = json.loads(benchmark_files[0].read_text())
    assert {b["group"] for b in report["benchmarks"]} >= {"rtf", "ttfa"}
    inference = [b for b in report["benchmarks"] if b["group"] not in ("rtf", "ttfa")]
    assert len(inference) == 6 and all(b["stats"]["rounds"] == 2 for b in inference)
    assert set(report["machine_info"]["kokoro_iphones"]) == {UDID_A, UDID_B}
    assert json.loads((pytester.path / "merged.json").read_text()) == report, "--benchmark-json got no merged file"
