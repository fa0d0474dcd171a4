"""A fixed CPU workload, timed by the harness right before each round's clock starts.

The regression gates divide RTF and TTFA by it: on a shared or throttled machine everything slows down together,
so a busier machine does not look like slower code, while a slower engine still does (the workload does not touch
the engine). Like the engine it runs on the CPU threads numpy's BLAS uses.
"""

from __future__ import annotations

import time

import numpy as np

_SIZE = 192
_REPEATS = 100
_MATRIX = (np.random.default_rng(20261124).standard_normal((_SIZE, _SIZE)) / np.sqrt(_SIZE)).astype(np.float32)


def measure_calibration() -> float:
    """Seconds the fixed workload takes now."""
    x = _MATRIX
    started = time.perf_counter()
    for _ in range(_REPEATS):
        x = np.tanh(x @ _MATRIX)
    elapsed = time.perf_counter() - started
    if not np.all(np.isfinite(x)):  # uses the result, and would catch a broken BLAS
        raise FloatingPointError("the calibration workload produced non-finite numbers")
    return elapsed
