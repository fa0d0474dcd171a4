"""The host harness's heat readings (docs/results.md "Heat"): sysfs where readable, null where not, never a guess;
taken outside the timed region, and answered to a ``conditions`` request."""

from __future__ import annotations

import pytest

from pytest_kokoro.core.protocol import encode, parse_event
from pytest_kokoro.harness import server
from pytest_kokoro.harness.heat import cpu_frequency_mhz, cpu_temperature_c
from pytest_kokoro.harness.server import Harness
from tests.support.scripted_engine import ScriptedEngine


def write(root, relative, text):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_hottest_thermal_zone_in_degrees(tmp_path):
    write(tmp_path, "sys/class/thermal/thermal_zone0/temp", "45000\n")
    write(tmp_path, "sys/class/thermal/thermal_zone1/temp", "61500\n")
    write(tmp_path, "sys/class/thermal/thermal_zone2/temp", "not a number\n")  # a sensor that is off
    write(tmp_path, "sys/class/thermal/cooling_device0/cur_state", "3\n")  # not a zone
    assert cpu_temperature_c(tmp_path) == 61.5


def test_the_mean_cpu_frequency_in_mhz(tmp_path):
    write(tmp_path, "sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "2400000\n")
    write(tmp_path, "sys/devices/system/cpu/cpu1/cpufreq/scaling_cur_freq", "1800000\n")
    write(tmp_path, "sys/devices/system/cpu/cpufreq/policy0/scaling_cur_freq", "999\n")  # a policy, not a cpu
    assert cpu_frequency_mhz(tmp_path) == 2100.0


def test_nothing_readable_is_null_never_a_guess(tmp_path):
    write(tmp_path, "proc/cpuinfo", "cpu MHz\t\t: 2394.454\n")  # a VM's fixed nominal figure: never used
    (tmp_path / "sys/class/thermal").mkdir(parents=True)
    assert cpu_temperature_c(tmp_path) is None
    assert cpu_frequency_mhz(tmp_path) is None


@pytest.fixture
def fake_sysfs(tmp_path, monkeypatch):
    """The harness's readers pointed at a fake sysfs whose temperature the test changes."""
    write(tmp_path, "sys/class/thermal/thermal_zone0/temp", "50000")
    write(tmp_path, "sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "2000000")
    monkeypatch.setattr(server, "cpu_temperature_c", lambda: cpu_temperature_c(tmp_path))
    monkeypatch.setattr(server, "cpu_frequency_mhz", lambda: cpu_frequency_mhz(tmp_path))
    return tmp_path


class HeatingEngine(ScriptedEngine):
    """SIMULATED: every timed chunk heats the fake CPU by 5 degrees and slows it to 1.5 GHz."""

    def __init__(self, root):
        super().__init__()
        self.root = root

    def synthesize(self, variant, text, voice, voice_name, speed):
        if text != "Hi.":
            write(self.root, "sys/class/thermal/thermal_zone0/temp", str(int(cpu_temperature_c(self.root) * 1000) + 5000))
            write(self.root, "sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1500000")
        return super().synthesize(variant, text, voice, voice_name, speed)


def test_a_round_reads_heat_before_its_clock_and_after_its_last_chunk(fake_sysfs):
    events = []
    Harness(HeatingEngine(fake_sysfs), events.append).handle_line(encode(
        {"type": "run", "id": "r1", "text": "Hello there. How are you?", "voice": "jf_alpha", "variant": "int8"}))
    result = events[-1]["result"]
    assert (result["cpu_temperature_c_before"], result["cpu_temperature_c_after"]) == (50.0, 60.0)
    assert (result["cpu_frequency_mhz_before"], result["cpu_frequency_mhz_after"]) == (2000.0, 1500.0)
    assert result["calibration_time"] > 0 and result["calibration_time_after"] > 0
    assert result["thermal_state_before"] is None and result["thermal_state_after"] is None  # no ProcessInfo here


def test_the_calibration_workloads_are_outside_the_timed_region(monkeypatch):
    order = []
    engine = ScriptedEngine()
    real = engine.synthesize
    engine.synthesize = lambda *args: order.append(f"synthesize {args[1]}") or real(*args)
    monkeypatch.setattr(server, "measure_calibration", lambda: order.append("calibration") or 0.02)
    events = []
    Harness(engine, events.append).handle_line(encode(
        {"type": "run", "id": "r1", "text": "Hello there. How are you?", "voice": "jf_alpha", "variant": "int8"}))
    assert order == ["synthesize Hi.", "calibration", "synthesize Hello there.", "synthesize How are you?",
                     "calibration"]
    assert events[-1]["result"]["calibration_time_after"] == 0.02


def test_a_conditions_request_is_answered_with_the_readings_now(fake_sysfs):
    events = []
    Harness(ScriptedEngine(), events.append).handle_line(encode({"type": "conditions", "id": "c7"}))
    event = parse_event(encode(events[0]))
    assert event["type"] == "conditions" and event["id"] == "c7"
    assert (event["thermal_state"], event["cpu_temperature_c"], event["cpu_frequency_mhz"]) == (None, 50.0, 2000.0)
    assert event["calibration_time"] > 0
