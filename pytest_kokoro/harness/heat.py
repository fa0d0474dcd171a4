"""What the host harness can read of the machine's heat, outside every timed region (docs/results.md "Heat").

Linux only, from sysfs: the hottest thermal zone and the mean current CPU frequency. Each reader returns None where
nothing is readable (no zone, no cpufreq, another OS, a VM), never a guess: /proc/cpuinfo's "cpu MHz" is left out on
purpose, as a VM reports a fixed nominal figure there. ``root`` is the filesystem root the files are read under, so a
test can point it at a folder of fake sysfs files. The Swift harness reads the same files (HeatSensors.swift).
"""

from __future__ import annotations

from pathlib import Path


def _numbers(paths: list[Path]) -> list[float]:
    found = []
    for path in paths:
        try:
            found.append(float(path.read_text(encoding="ascii").strip()))
        except (OSError, ValueError, UnicodeDecodeError):
            continue  # a zone that cannot be read (permissions, a sensor that is off) says nothing
    return found


def cpu_temperature_c(root: str | Path = "/") -> float | None:
    """The highest readable /sys/class/thermal/thermal_zone*/temp, in degrees C (sysfs gives millidegrees)."""
    readings = _numbers(sorted(Path(root, "sys/class/thermal").glob("thermal_zone*/temp")))
    return max(readings) / 1000.0 if readings else None


def cpu_frequency_mhz(root: str | Path = "/") -> float | None:
    """The mean of the readable /sys/devices/system/cpu/cpu*/cpufreq/scaling_cur_freq, in MHz (sysfs gives kHz)."""
    files = Path(root, "sys/devices/system/cpu").glob("cpu*/cpufreq/scaling_cur_freq")
    readings = _numbers(sorted(f for f in files if f.parent.parent.name[3:].isdigit()))  # cpu0, cpu1, ...
    return sum(readings) / len(readings) / 1000.0 if readings else None
