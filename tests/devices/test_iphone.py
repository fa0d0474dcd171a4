"""--device=iphone without a phone: pymobiledevice3's own usbmux client against a SIMULATED usbmuxd (stand-in) that
forwards the app port to the Swift CLI harness (its engine is SIMULATED too). The lockdown services (facts, install,
launch, house_arrest) are a SIMULATED double that raises pymobiledevice3's own exception classes."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pymobiledevice3 import exceptions as pmd
from pymobiledevice3.dtx.exceptions import DTXNsError, DTXProtocolError
from pymobiledevice3.dtx.ns_types import NSError

from pytest_kokoro.devices.base import DeviceError
from pytest_kokoro.devices.iphone import device as iphone
from pytest_kokoro.devices.iphone import errors
from pytest_kokoro.devices.iphone.device import IPhoneDevice
from pytest_kokoro.devices.iphone.package import package_info
from pytest_kokoro.devices.iphone.pulled import compare_results, exclusion_note
from pytest_kokoro.devices.iphone.services import BUILD_ID_KEY, AppInfo, DeviceFacts, Pymobiledevice3Services
from pytest_kokoro.devices.iphone.weights import WeightsPushError
from pytest_kokoro.devices.subprocess import swift_harness_binary
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
                 failures: dict[str, Exception] | None = None, usbmux_address: str | None = None):
        super().__init__(usbmux_address)
        self.facts = facts
        self.app = app
        self.failures = failures or {}
        self.launched: list[list[str]] = []
        self.killed: list[int] = []
        self.installed: list[Path] = []
        self.on_launch = None
        self.phone_files: dict[str, bytes] = {}
        self.facts_asked: list[tuple[str, bool]] = []
        self.bundle_ids: set[str] = set()  # every bundle id a service was asked about

    def _maybe_fail(self, what: str) -> None:
        if what in self.failures:
            raise self.failures[what]

    def device_facts(self, udid, check_image=True):
        self._maybe_fail("facts")
        self.facts_asked.append((udid, check_image))
        return self.facts or DeviceFacts(udid, "iPhone16,1", "17.5.1", "SIMULATED phone", True, True, True)

    def installed_app(self, udid, bundle_id):
        self._maybe_fail("installed_app")
        self.bundle_ids.add(bundle_id)
        return self.app

    def install(self, udid, package):
        self._maybe_fail("install")
        self.installed.append(package)
        self.app = package_info(package)[1]

    def launch(self, udid, ios_major, bundle_id, arguments):
        self._maybe_fail("launch")
        self.bundle_ids.add(bundle_id)
        self.launched.append(arguments)
        if self.on_launch:
            self.on_launch()
        return 4242

    def kill(self, udid, ios_major, pid):
        self._maybe_fail("kill")
        self.killed.append(pid)

    def list_results(self, udid, bundle_id):
        self._maybe_fail("list_results")
        self.bundle_ids.add(bundle_id)
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
    from pytest_kokoro.devices.registry import parse_device

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
     errors.DiskImageNotMountedError, "refused to start com.apple.instruments.remoteserver: InvalidService.*mounter auto-mount"),
    (dict(failures={"installed_app": pmd.StartServiceError("com.apple.mobile.installation_proxy", "ServiceProhibited")}),
     errors.ServiceRefusedError, "refused to start installation_proxy .* while looking up the harness app \\(ServiceProhibited\\)"),
    # sudo does not see a virtualenv's PATH: the command names this Python.
    (dict(failures={"launch": pmd.TunneldConnectionError()}), errors.TunnelRequiredError,
     re.escape(f"sudo {sys.executable} -m pymobiledevice3 remote tunneld")),
    # iOS 17+ over RSD: the DVT service missing or no image mounted is the developer disk image, not a tunnel.
    (dict(failures={"launch": pmd.InvalidServiceError("The device does not offer the com.apple.instruments.dtservicehub "
                                                      "service.", UDID_A, "17.5")}),
     errors.DiskImageNotMountedError, "personalized image"),
    (dict(failures={"launch": pmd.NotMountedError()}), errors.DiskImageNotMountedError, "mounter auto-mount"),
    # The phone refusing the launch: its own reason (the NSError's user_info), no traceback.
    (dict(failures={"launch": DTXNsError(NSError(1, "FBSOpenApplicationServiceErrorDomain", {
        "NSLocalizedDescription": "The request to open \"dev.pytest-kokoro.KokoroBench\" failed.",
        "NSLocalizedFailureReason": "The request was denied by service delegate (SBMainWorkspace) for reason: "
                                    "Security (\"Unable to launch dev.pytest-kokoro.KokoroBench because it has an "
                                    "invalid code signature, inadequate entitlements or its profile has not been "
                                    "explicitly trusted by the user\")."}))}),
     errors.LaunchFailedError, "refused launching the harness app: The request to open .* failed.; The request was "
                               "denied .*explicitly trusted by the user.*FBSOpenApplicationServiceErrorDomain code 1"
                               ".*Trust\\), or its provisioning profile expired: a free Personal Team's apps stop "
                               "launching 7 days after the build"),
    (dict(failures={"launch": DTXProtocolError("Expected NSError in ERROR reply for launch on channel 1, got None")}),
     errors.LaunchFailedError, "instruments connection .* broke while launching the harness app"),
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


def make_app(tmp_path: Path, build: str, short: str = "0.1.0", ipa: bool = False, build_id: str | None = None,
             bundle_id: str = errors.DEFAULT_BUNDLE_ID) -> Path:
    import plistlib
    import zipfile

    info = {"CFBundleIdentifier": bundle_id, "CFBundleVersion": build, "CFBundleShortVersionString": short}
    if build_id is not None:
        info[BUILD_ID_KEY] = build_id
    info = plistlib.dumps(info)
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
    (AppInfo("1", "0.1.0", "20261205T1000Z-a"), False, True),  # outdated build
    # Rebuilt: XcodeGen writes the same versions every time, only the stamped build id differs.
    (AppInfo("2", "0.1.0", "20261205T1000Z-a"), False, True),
    (AppInfo("2", "0.1.0", None), True, True),  # installed before build ids existed
    (AppInfo("2", "0.1.0", "20261205T1100Z-b"), True, False),  # the same build: left alone
])
def test_iphone_installs_launches_and_stops(usbmuxd, services, swift_harness, tmp_path, installed, ipa,
                                             expect_install):
    port = free_port()
    usbmuxd(FakePhone(UDID_A, {APP_PORT: port}))
    phone = services(app=installed)
    # The app only starts listening when launched: connect() must retry through ConnectionFailedError.
    phone.on_launch = lambda: swift_harness(port)
    app = make_app(tmp_path, "2", ipa=ipa, build_id="20261205T1100Z-b")
    iphone_device = device(phone, tmp_path, app=app)
    client = iphone_device.start(10)
    assert client.hello["protocol"] == 1
    assert phone.launched == [["--serve", str(APP_PORT)]]
    assert phone.installed == ([app] if expect_install else [])
    outcome = client.run(text="Hi there. This is Kokoro.", voice="af_heart", variant="4bit")
    assert outcome.result["device_udid"] == UDID_A and outcome.result["product_type"] == "iPhone16,1"
    client.shutdown()
    iphone_device.stop()
    # The app said bye and exits by itself: nothing to kill, no tunnel opened, no note about certificates.
    assert phone.killed == []
    assert not any("could not stop" in note for note in iphone_device.notes), iphone_device.notes


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


def test_iphone_house_arrest_refusal_is_named_in_the_note(usbmuxd, services, swift_harness, tmp_path):
    harness = swift_harness()
    usbmuxd(FakePhone(UDID_A, {APP_PORT: harness.port}))
    phone = services(failures={"list_results": pmd.StartServiceError("com.apple.mobile.house_arrest",
                                                                     "InstallationLookupFailed")})
    iphone_device = device(phone, tmp_path, launch="manual")
    iphone_device.start(10).shutdown()
    iphone_device.stop()
    assert any("refused to start house_arrest (the app's Documents folder)" in n and "InstallationLookupFailed" in n
               for n in iphone_device.notes), iphone_device.notes


def test_iphone_compare_results_names_the_sentence_timings():
    streamed = [{"model_name": "m", "voice": "v", "per_sentence_inference": [0.1, 0.2]}]
    assert compare_results(streamed, streamed) == []
    problems = compare_results([{"per_sentence_inference": [0.1, 0.3]}], streamed)
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


# -- the real Pymobiledevice3Services against pymobiledevice3's own code, its network edges replaced -------------------
UDID_NO_DASH = UDID_A.replace("-", "")
TUNNEL = {"tunnel-address": "fd00::1", "tunnel-port": 58783, "interface": "utun9"}


class RealLaunch(SimulatedPhoneServices):
    """SIMULATED facts and app lookup, but the REAL launch/kill path (tunneld, PreferredRsdTunnel, DVT)."""

    launch = Pymobiledevice3Services.launch
    kill = Pymobiledevice3Services.kill


@pytest.fixture
def no_tunneld(monkeypatch):
    """tunneld is not running: the real _list_tunnels raises TunneldConnectionError (tunneld/api.py:207)."""
    from pymobiledevice3.tunneld import api

    def refused(address=api.TUNNELD_DEFAULT_ADDRESS):
        raise pmd.TunneldConnectionError()

    monkeypatch.setattr(api, "_list_tunnels", refused)


def userspace_tunnel_raises(monkeypatch, error: BaseException) -> list[str]:
    """The root-free tunnel fails as pymobiledevice3 fails: ``error`` from UserspaceRsdTunnel.aopen, reached through
    the library's PreferredRsdTunnel (which the returned list shows was used)."""
    from pymobiledevice3.remote.rsd_tunnel import PreferredRsdTunnel
    from pymobiledevice3.remote.userspace_tunnel import UserspaceRsdTunnel

    used: list[str] = []
    preferred_open = PreferredRsdTunnel.aopen

    async def spy(self):
        used.append(f"PreferredRsdTunnel({self.serial})")
        return await preferred_open(self)

    async def fail(self):
        raise error

    monkeypatch.setattr(PreferredRsdTunnel, "aopen", spy)
    monkeypatch.setattr(UserspaceRsdTunnel, "aopen", fail)
    return used


@pytest.mark.parametrize("error, error_type, message", [
    (pmd.UserspaceTunnelUnavailableError("No-root userspace tunnel unavailable: the device exposes no CoreDeviceProxy "
                                         "lockdown service (needs iOS 17.4+)"),
     errors.TunnelRequiredError, re.escape(f"sudo {sys.executable} -m pymobiledevice3 remote tunneld")),
    (ConnectionResetError(104, "Connection reset by peer"), errors.TunnelRequiredError, "remote tunneld"),
    # lockdown.py:929: a locked phone answers PasswordProtected -> PasswordRequiredError
    (pmd.PasswordRequiredError("The device is protected with a passcode. Unlock it and try again."),
     errors.PhoneLockedError, "is locked"),
    (pmd.NotPairedError(), errors.PhoneNotTrustedError, "tap Trust"),
    # userspace_tunnel.py:758
    (pmd.PyMobileDevice3Exception("A userspace tunnel is already active in this process; only one userspace tunnel "
                                  "per process is supported."), errors.TunnelAlreadyActiveError, "one per process"),
])
def test_iphone_only_a_real_tunnel_failure_says_run_tunneld(usbmuxd, services, tmp_path, monkeypatch, no_tunneld,
                                                            error, error_type, message):
    usbmuxd(FakePhone(UDID_A))
    used = userspace_tunnel_raises(monkeypatch, error)
    phone = RealLaunch()
    try:
        with pytest.raises(error_type, match=message) as caught:
            device(phone, tmp_path).start(5)
    finally:
        phone.close()
    assert used == [f"PreferredRsdTunnel({UDID_A})"], "the library's preferred RSD tunnel class opens the tunnel"
    assert ("needs a tunnel" in str(caught.value)) == (error_type is errors.TunnelRequiredError)


def test_iphone_stale_tunneld_entry_is_named_not_an_index_error(usbmuxd, tmp_path, monkeypatch):
    """tunneld lists a tunnel whose RSD no longer answers: the REAL get_tunneld_device_by_udid raises IndexError."""
    from pymobiledevice3.remote.remote_service_discovery import RemoteServiceDiscoveryService
    from pymobiledevice3.tunneld import api

    monkeypatch.setattr(api, "_list_tunnels", lambda address=api.TUNNELD_DEFAULT_ADDRESS: {UDID_A: [TUNNEL]})

    async def dead(self):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(RemoteServiceDiscoveryService, "connect", dead)
    userspace_tunnel_raises(monkeypatch, pmd.UserspaceTunnelUnavailableError("no CoreDeviceProxy"))
    usbmuxd(FakePhone(UDID_A))
    phone = RealLaunch()
    try:
        with pytest.raises(errors.TunnelRequiredError, match="tunneld lists a tunnel for this phone that no longer "
                                                             "answers: restart tunneld"):
            device(phone, tmp_path).start(5)
    finally:
        phone.close()


def test_iphone_tunneld_finds_the_phone_with_or_without_the_dash(monkeypatch):
    from pymobiledevice3.remote.remote_service_discovery import RemoteServiceDiscoveryService
    from pymobiledevice3.tunneld import api

    monkeypatch.setattr(api, "_list_tunnels", lambda address=api.TUNNELD_DEFAULT_ADDRESS: {UDID_A: [TUNNEL]})

    async def answers(self):
        return None

    monkeypatch.setattr(RemoteServiceDiscoveryService, "connect", answers)
    phone = Pymobiledevice3Services()
    try:
        for typed in (UDID_A, UDID_NO_DASH, UDID_NO_DASH.lower()):
            rsd = phone._loop.run(phone._tunneld_provider(typed), 5, "asking tunneld")
            assert isinstance(rsd, RemoteServiceDiscoveryService), typed
    finally:
        phone.close()


def test_iphone_udid_typed_without_the_dash_is_the_connected_phone(usbmuxd, services, tmp_path):
    usbmuxd(FakePhone(UDID_A))
    phone = services()
    iphone_device = device(phone, tmp_path, spec=f"iphone:{UDID_NO_DASH}", launch="manual")
    assert iphone_device.select() == UDID_A
    iphone_device.preflight()
    assert phone.facts_asked == [(UDID_A, False)], "later calls use usbmuxd's spelling of the UDID"


def test_iphone_kill_refused_is_a_note_with_the_phones_reason(usbmuxd, services, swift_harness, tmp_path):
    port = free_port()
    usbmuxd(FakePhone(UDID_A, {APP_PORT: port}))
    phone = services(failures={"kill": DTXNsError(NSError(3, "NSPOSIXErrorDomain", {
        "NSLocalizedDescription": "No such process"}))})
    phone.on_launch = lambda: swift_harness(port)
    iphone_device = device(phone, tmp_path)
    iphone_device.start(10)
    iphone_device.stop()  # no `shutdown`, no `bye`: the app may still run, so it is killed
    assert phone.killed == [] and any(
        "could not stop the app (pid 4242): No such process (NSPOSIXErrorDomain code 3)" in n
        for n in iphone_device.notes), iphone_device.notes
    assert not any("certificate" in n or "tunneld" in n for n in iphone_device.notes), "not a signing problem"


# -- every call to the phone is bounded ----------------------------------------------------------------------------
class Python310FuturesTimeout(concurrent.futures._base.Error):
    """concurrent.futures.TimeoutError as Python 3.10 defines it: NOT the built-in TimeoutError."""


@pytest.fixture(params=["3.11+", "3.10"])
def futures_timeout(request, monkeypatch):
    if request.param == "3.10":
        monkeypatch.setattr(concurrent.futures._base, "TimeoutError", Python310FuturesTimeout)
        monkeypatch.setattr(concurrent.futures, "TimeoutError", Python310FuturesTimeout)
    return request.param


def test_iphone_a_call_that_hangs_is_cancelled_and_names_its_step(futures_timeout):
    from pytest_kokoro.devices.iphone.services import _LoopThread

    tunnel = {"open": False}

    async def hangs():
        tunnel["open"] = True
        try:
            await asyncio.Event().wait()
        finally:
            tunnel["open"] = False  # what `finally: await tunnel.aclose()` does in _with_process_control

    loop = _LoopThread()
    try:
        with pytest.raises(TimeoutError, match="launching the app did not finish within 0.2 s"):
            loop.run(hangs(), 0.2, "launching the app")
    finally:
        loop.close()
    assert tunnel == {"open": False}, "the timed-out coroutine was cancelled and closed its tunnel"


class HangingFacts(SimulatedPhoneServices):
    """The real device_facts over a SIMULATED lockdown whose image mounter never answers (old iOS: one client)."""

    device_facts = Pymobiledevice3Services.device_facts

    def __init__(self, monkeypatch, **kwargs):
        super().__init__(**kwargs)
        from pymobiledevice3.services import mobile_image_mounter

        self.mounter_asked = 0
        services_ = self

        class SimulatedLockdown:
            all_values = {"ProductType": "iPhone9,1", "ProductVersion": "13.7", "DeviceName": "SIMULATED"}
            paired = True

            async def close(self):
                pass

        class NeverAnswers:
            def __init__(self, lockdown):
                services_.mounter_asked += 1

            async def __aenter__(self):
                return self

            async def __aexit__(self, *exc):
                return None

            async def is_image_mounted(self, image_type):
                await asyncio.Event().wait()

        async def lockdown(udid):
            return SimulatedLockdown()

        self._lockdown = lockdown
        monkeypatch.setattr(mobile_image_mounter, "MobileImageMounterService", NeverAnswers)
        monkeypatch.setattr(mobile_image_mounter, "image_type_for_device", lambda lockdown: "Developer")


@pytest.mark.parametrize("launch", ["manual", "auto"])
def test_iphone_the_mounter_query_never_hangs(usbmuxd, tmp_path, monkeypatch, futures_timeout, launch):
    usbmuxd(FakePhone(UDID_A))
    phone = HangingFacts(monkeypatch)
    phone.LOCKDOWN_TIMEOUT = 3.0
    phone.MOUNTER_TIMEOUT = 0.2
    try:
        facts = device(phone, tmp_path, launch=launch).preflight()
    finally:
        phone.close()
    assert facts.product_version == "13.7" and facts.image_mounted is None
    assert phone.mounter_asked == (1 if launch == "auto" else 0), "manual mode does not ask the mounter at all"


def test_iphone_a_timeout_is_an_iphone_error_naming_the_step_on_every_python(usbmuxd, tmp_path, monkeypatch,
                                                                              futures_timeout):
    usbmuxd(FakePhone(UDID_A))
    phone = HangingFacts(monkeypatch)
    phone.LOCKDOWN_TIMEOUT = 0.3
    phone.MOUNTER_TIMEOUT = 30.0
    try:
        with pytest.raises(errors.IPhoneError, match="reading the phone's facts through lockdownd did not finish "
                                                     "within 0.3 s"):
            device(phone, tmp_path).preflight()
    finally:
        phone.close()


# -- installing draws no progress bar into pytest's output ----------------------------------------------------------
def test_iphone_installing_an_app_folder_draws_no_progress_bar(tmp_path, monkeypatch):
    from pymobiledevice3 import progress
    from pymobiledevice3.services import afc, installation_proxy

    bars: list[str] = []
    acquire = progress._SharedDisplay.acquire
    monkeypatch.setattr(progress._SharedDisplay, "acquire", lambda self: bars.append("bar") or acquire(self))
    uploaded: dict[str, bytes] = {}
    sent: list[tuple] = []

    class SimulatedAfc:
        """AfcService's methods that an install uses, on a SIMULATED phone."""

        def __init__(self, lockdown, service_name=None):
            pass

        async def __aenter__(self):
            return self

        async def __aexit__(self, *exc):
            return None

        async def makedirs(self, path):
            pass

        async def set_file_contents(self, path, data, progress=None):
            if progress is not None:
                progress.update(len(data))
            uploaded[path] = data

        async def rm_single(self, path, force=False):
            uploaded.pop(path, None) if False else None

    class SimulatedLockdown:
        async def start_lockdown_service(self, name, include_escrow_bag=False):
            class Connection:
                async def close(self):
                    pass
            return Connection()

        async def close(self):
            pass

    async def send_package(self, cmd, options, handler, package_path, *args):
        sent.append((cmd, package_path, uploaded[package_path][:2]))

    monkeypatch.setattr(afc, "AfcService", SimulatedAfc)
    monkeypatch.setattr(installation_proxy, "AfcService", SimulatedAfc)
    monkeypatch.setattr(installation_proxy.InstallationProxyService, "send_package", send_package)
    app = make_app(tmp_path, "7")
    (app / "KokoroBench").write_bytes(b"\xcf\xfa\xed\xfe" + b"\0" * 4096)
    phone = Pymobiledevice3Services()

    async def lockdown(udid):
        return SimulatedLockdown()

    phone._lockdown = lockdown
    try:
        phone.install(UDID_A, app)
    finally:
        phone.close()
    assert sent and sent[0][0] == "Install" and sent[0][1].startswith(installation_proxy.TEMP_REMOTE_BASEDIR)
    assert sent[0][2] == b"PK", "a .app folder is sent as an .ipa (zip)"
    assert bars == [], "pymobiledevice3's progress bar was drawn"


# -- your own bundle id -------------------------------------------------------------------------------------------
def test_iphone_the_bundle_id_comes_from_the_package_you_built(usbmuxd, services, swift_harness, tmp_path):
    port = free_port()
    usbmuxd(FakePhone(UDID_A, {APP_PORT: port}))
    phone = services(app=None)
    phone.on_launch = lambda: swift_harness(port)
    app = make_app(tmp_path, "1", build_id="b1", bundle_id="com.example.mine.KokoroBench")
    iphone_device = device(phone, tmp_path, app=app)
    iphone_device.start(10).shutdown()
    iphone_device.stop()
    assert phone.bundle_ids == {"com.example.mine.KokoroBench"}, "install check, launch and results pull all use it"


def test_iphone_a_bundle_id_option_that_disagrees_with_the_package_says_which(usbmuxd, services, tmp_path):
    usbmuxd(FakePhone(UDID_A))
    app = make_app(tmp_path, "1", build_id="b1", bundle_id="com.example.mine.KokoroBench")
    with pytest.raises(errors.IPhoneError, match="is com.example.mine.KokoroBench, but --kokoro-bundle-id is "
                                                 "org.other.KokoroBench"):
        device(services(), tmp_path, app=app, bundle_id="org.other.KokoroBench").start(5)


def test_iphone_not_installed_names_the_bundle_id_it_looked_for(usbmuxd, services, tmp_path):
    usbmuxd(FakePhone(UDID_A))
    phone = services(app=None)
    with pytest.raises(errors.AppNotInstalledOnPhoneError, match="com.example.mine.KokoroBench is not installed.*"
                                                                 "--kokoro-bundle-id"):
        device(phone, tmp_path, bundle_id="com.example.mine.KokoroBench").start(5)
    assert phone.bundle_ids == {"com.example.mine.KokoroBench"}


def test_iphone_without_the_iphone_extra_says_how_to_install_it(monkeypatch, tmp_path):
    from pytest_kokoro.devices.base import DeviceSettings
    from pytest_kokoro.devices.registry import parse_device

    monkeypatch.setitem(sys.modules, "pymobiledevice3", None)  # what `import` sees when it is not installed
    with pytest.raises(errors.IPhoneExtraMissingError, match=r"pip install 'pytest-kokoro\[iphone\]'"):
        iphone.iphone_device(parse_device("iphone"), DeviceSettings(tmp_path), iphone.IPhoneRun())


# -- phones on other Macs: iphone:UDID@HOST:PORT ----------------------------------------------------------------------
@pytest.mark.parametrize("text, target", [
    (UDID_A, (UDID_A, None)),
    (f"{UDID_A}@127.0.0.2:27015", (UDID_A, "127.0.0.2:27015")),
    (f"{UDID_A}@mac-mini.local:1", (UDID_A, "mac-mini.local:1")),
])
def test_iphone_targets_parse(text, target):
    from pytest_kokoro.devices.iphone.targets import parse_target

    parsed = parse_target(text)
    assert (parsed.udid, parsed.usbmux_address) == target
    assert str(parsed) == text


@pytest.mark.parametrize("text, message", [
    (f"{UDID_A}@127.0.0.2", "as HOST:PORT with a port from 1 to 65535"),
    (f"{UDID_A}@127.0.0.2:0", "a port from 1 to 65535"),
    (f"{UDID_A}@:27015", "as HOST:PORT"),
    (f"{UDID_A}@[::1]:27015", "is not a host name or IPv4 address"),
    ("@127.0.0.2:27015", "does not start with a phone's UDID"),
])
def test_iphone_bad_targets_say_the_form(text, message):
    from pytest_kokoro.devices.iphone.targets import parse_target

    with pytest.raises(ValueError, match=re.escape(message)):
        parse_target(text)


def test_iphone_two_phones_on_two_macs_two_workers(pytester, monkeypatch, swift_harness):
    """Two usbmuxd stand-ins on loopback addresses other than 127.0.0.1, one phone each, driven from one pytest run
    with -n 2; USBMUXD_SOCKET_ADDRESS points at nothing, so only the addresses in --kokoro-device can work."""
    first, second = swift_harness(), swift_harness()
    monkeypatch.setenv("USBMUXD_SOCKET_ADDRESS", f"127.0.0.1:{free_port()}")
    with UsbmuxdStandIn([FakePhone(UDID_A, {APP_PORT: first.port})], host="127.0.0.2") as mac_a, \
            UsbmuxdStandIn([FakePhone(UDID_B, {APP_PORT: second.port})], host="127.0.0.3") as mac_b:
        target = f"iphone:{UDID_A}@{mac_a.socket_address},{UDID_B}@{mac_b.socket_address}"
        outcome = run_benchmarks(pytester, f"--kokoro-device={target}", "--kokoro-launch=manual", "-n", "2",
                                 "--kokoro-voices", "af_heart,am_onyx,jf_alpha", "--kokoro-variants", "4bit,8bit")
        assert "Connect" in mac_a.requests and "Connect" in mac_b.requests
    outcome.assert_outcomes(passed=6)
    _, results = results_of(pytester)
    assert len(results) == 12
    assert {r["device_udid"] for r in results} == {UDID_A, UDID_B}


# -- weights onto the phone without Xcode: --kokoro-push-weights ------------------------------------------------------
class SimulatedAfc:
    """A SIMULATED app Documents over AFC: the AfcService methods push_tree uses, raising what pymobiledevice3 11.45
    raises (stat on a missing path: AfcFileNotFoundError, afc.py stat). ``corrupt`` flips the first byte written to a
    file whose path ends with it (a bad cable, a full phone)."""

    def __init__(self, corrupt: str | None = None):
        self.files: dict[str, bytearray] = {}
        self.dirs: set[str] = set()
        self.handles: dict[int, str] = {}
        self.positions: dict[int, int] = {}
        self.writes: list[str] = []
        self.corrupt = corrupt

    async def exists(self, path):
        return path in self.files or path in self.dirs

    async def stat(self, path):
        if path not in self.files:
            raise pmd.AfcFileNotFoundError(f"No such file on the device: {path}", 8, path)
        return {"st_size": len(self.files[path]), "st_ifmt": "S_IFREG"}

    async def makedirs(self, path):
        self.dirs.add(path)

    async def fopen(self, path, mode="r"):
        if mode == "w":
            self.files[path] = bytearray()
            self.writes.append(path)
        elif path not in self.files:
            raise pmd.AfcFileNotFoundError(f"No such file on the device: {path}", 8, path)
        handle = len(self.handles) + 1
        self.handles[handle] = path
        self.positions[handle] = 0
        return handle

    async def fwrite(self, handle, data):
        path = self.handles[handle]
        if self.corrupt and path.endswith(self.corrupt) and not self.files[path]:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        self.files[path] += data

    async def fread(self, handle, size):
        path, start = self.handles[handle], self.positions[handle]
        self.positions[handle] = start + size
        return bytes(self.files[path][start:start + size])

    async def fclose(self, handle):
        self.handles.pop(handle)

    async def get_file_contents(self, path):
        return bytes(self.files[path])

    async def set_file_contents(self, path, data):
        self.files[path] = bytearray(data)


class PushingPhone(SimulatedPhoneServices):
    """SIMULATED lockdown; the REAL push_weights/push_tree over a SIMULATED house_arrest AFC."""

    push_weights = Pymobiledevice3Services.push_weights

    def __init__(self, afc: SimulatedAfc, **kwargs):
        super().__init__(**kwargs)
        self.afc = afc
        self.vended: list[str] = []

    async def _house_arrest(self, udid, bundle_id, action):
        self.vended.append(bundle_id)
        return await action(self.afc)


def weights_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "weights"
    model = folder / "models" / "Kokoro-82M-4bit"
    (model / "voices").mkdir(parents=True)
    (model / "config.json").write_text("{}")
    (model / "kokoro-v1_0.safetensors").write_bytes(bytes(range(256)) * 40_000)  # 10 MB: more than one AFC chunk
    (model / "voices" / "af_heart.safetensors").write_bytes(b"voice")
    (model / ".cache").mkdir()
    (model / ".cache" / "lock").write_text("huggingface-cli's own")
    g2p = folder / "huggingface" / "hub" / "mlx-audio" / "beshkenadze_kitten-tts-g2p"
    g2p.mkdir(parents=True)
    for name in ("us_bart.safetensors", "us_bart_config.json", "us_gold.json", "us_silver.json"):
        (g2p / name).write_text("{}")
    return folder


def test_iphone_push_weights_copies_checks_and_skips_what_is_there(usbmuxd, swift_harness, tmp_path):
    harness = swift_harness()
    usbmuxd(FakePhone(UDID_A, {APP_PORT: harness.port}))
    afc = SimulatedAfc()
    folder = weights_folder(tmp_path)
    notes = []
    for _ in range(2):  # two pytest runs
        phone = PushingPhone(afc)
        try:
            iphone_device = device(phone, tmp_path, launch="manual", weights=folder, bundle_id="com.example.KB")
            iphone_device.start(10)
            iphone_device.stop()  # no shutdown: the (manually started) app keeps serving the next run
        finally:
            phone.close()
        assert phone.vended and set(phone.vended) == {"com.example.KB"}
        notes.append([n for n in iphone_device.notes if "weights:" in n])
    model = "/Documents/models/Kokoro-82M-4bit"
    assert afc.files[f"{model}/kokoro-v1_0.safetensors"] == (folder / "models/Kokoro-82M-4bit/kokoro-v1_0.safetensors"
                                                             ).read_bytes()
    assert f"{model}/.cache/lock" not in afc.files
    assert "/Documents/huggingface/hub/mlx-audio/beshkenadze_kitten-tts-g2p/us_gold.json" in afc.files
    assert len(afc.writes) == 7, "the second run copied nothing"
    assert len(notes[0]) == 1 and "7 file(s) copied (10.2 MB, sha256 checked on the phone), 0 already there" in notes[0][0]
    assert len(notes[1]) == 1 and "0 file(s) copied (0.0 MB, sha256 checked on the phone), 7 already there" in notes[1][0]


def test_iphone_push_weights_a_copy_that_differs_on_the_phone_stops_the_run(usbmuxd, tmp_path):
    usbmuxd(FakePhone(UDID_A))
    phone = PushingPhone(SimulatedAfc(corrupt="kokoro-v1_0.safetensors"))
    try:
        with pytest.raises(WeightsPushError, match="kokoro-v1_0.safetensors on the phone differs from .* "
                                                          "sha256 mismatch.*iPhone Storage"):
            device(phone, tmp_path, launch="manual", weights=weights_folder(tmp_path)).start(5)
    finally:
        phone.close()


def test_iphone_push_weights_names_the_layout_it_wants(usbmuxd, services, tmp_path):
    usbmuxd(FakePhone(UDID_A))
    phone = PushingPhone(SimulatedAfc())
    (tmp_path / "Kokoro-82M-4bit").mkdir()
    try:
        with pytest.raises(WeightsPushError, match="no models/ or huggingface/ folder in it"):
            device(phone, tmp_path, launch="manual", weights=tmp_path).start(5)
    finally:
        phone.close()


def test_iphone_the_tunnel_to_a_phone_on_another_mac_goes_through_that_macs_usbmuxd(usbmuxd, tmp_path, monkeypatch,
                                                                                    no_tunneld):
    """PreferredRsdTunnel takes no usbmux address: while it opens, USBMUXD_SOCKET_ADDRESS names the phone's usbmuxd."""
    from pymobiledevice3.remote.userspace_tunnel import UserspaceRsdTunnel

    seen: list[str | None] = []

    async def fail(self):
        import os

        seen.append(os.environ.get("USBMUXD_SOCKET_ADDRESS"))
        raise pmd.UserspaceTunnelUnavailableError("SIMULATED: no CoreDeviceProxy")

    monkeypatch.setattr(UserspaceRsdTunnel, "aopen", fail)
    local = usbmuxd()
    with UsbmuxdStandIn([FakePhone(UDID_A)], host="127.0.0.2") as mac:
        phone = RealLaunch(usbmux_address=mac.socket_address)
        try:
            with pytest.raises(errors.TunnelRequiredError):
                device(phone, tmp_path, spec=f"iphone:{UDID_A}@{mac.socket_address}").start(5)
        finally:
            phone.close()
    assert seen == [mac.socket_address]
    import os

    assert os.environ["USBMUXD_SOCKET_ADDRESS"] == local.socket_address, "restored afterwards"


def test_iphone_rounds_left_out_of_gates_are_counted_in_the_summary():
    rounds = [{"excluded_from_gates": ["debug_build", "low_power_mode"]}, {"excluded_from_gates": ["debug_build"]},
              {"excluded_from_gates": []}]
    note = exclusion_note(UDID_A, rounds)
    assert note == (f"iphone {UDID_A}: 2 of 3 rounds are kept in the results but left out of gates and baselines "
                    "(debug_build: 2, low_power_mode: 1). Build the app Release (docs/iphone.md, step 3).")
    assert exclusion_note(UDID_A, rounds[2:]) is None
