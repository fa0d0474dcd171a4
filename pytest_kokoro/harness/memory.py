"""Peak memory of the harness process during a run (DESIGN.md: Linux VmHWM, reset through clear_refs)."""

from __future__ import annotations

import resource
import sys

GIB = 1024**3


class PeakMemoryMeter:
    """Linux: VmHWM from /proc/self/status, reset to the current RSS by writing 5 to /proc/self/clear_refs.

    Elsewhere: ru_maxrss, which cannot be reset, so it is the process's peak so far (source says so).
    """

    def __init__(self) -> None:
        self.source = "VmHWM" if sys.platform.startswith("linux") else "ru_maxrss"

    def reset(self) -> None:
        if self.source != "VmHWM":
            return
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
        except OSError:
            # Without the reset VmHWM is the peak since start: still an upper bound, never too low.
            self.source = "VmHWM-unreset"

    def peak_gb(self) -> float:
        """The peak in GiB, or -1 where it cannot be read."""
        if self.source.startswith("VmHWM"):
            try:
                with open("/proc/self/status") as handle:
                    for line in handle:
                        if line.startswith("VmHWM:"):
                            return int(line.split()[1]) * 1024 / GIB
            except OSError:
                return -1.0
            return -1.0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss / GIB if sys.platform == "darwin" else rss * 1024 / GIB
