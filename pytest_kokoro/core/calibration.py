"""A fixed CPU workload, timed by the harness right before each round's clock starts.

The regression gates divide RTF and TTFA by it: on a shared or throttled machine everything slows down together,
so a busier machine does not look like slower code, while a slower engine still does (the workload does not touch
the engine). It is single-threaded numpy arithmetic on purpose: a BLAS matrix multiply in the harness process
fights onnxruntime's spinning thread pool and varied 2-5x on an idle machine; this varies by a few percent.
"""

from __future__ import annotations

import time

import numpy as np

_REPEATS = 200
_VECTOR = np.random.default_rng(20261124).standard_normal(200_000).astype(np.float32)
_SCALE, _SHIFT = np.float32(0.999), np.float32(0.001)


def measure_calibration() -> float:
    """Seconds the fixed workload takes now (about 20 ms on a 2-core x86-64 VM)."""
    x = _VECTOR
    started = time.perf_counter()
    for _ in range(_REPEATS):
        x = np.tanh(x * _SCALE + _SHIFT)
    elapsed = time.perf_counter() - started
    if not np.all(np.isfinite(x)):  # uses the result, and would catch broken arithmetic
        raise FloatingPointError("the calibration workload produced non-finite numbers")
    return elapsed
