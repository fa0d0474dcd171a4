"""The Python harness (python -m pytest_kokoro.harness) with shim.so's SherpaOnnxOfflineTtsGenerateWithConfig in
place of the library's, for tools/chunk_instructions.py --cpu. Arguments are the harness's."""

import ctypes
import os
import runpy
import sys

import pytest_kokoro.harness.sherpa_engine as sherpa_engine

_load_library = sherpa_engine.load_library


def load_library() -> ctypes.CDLL:
    library = _load_library()
    real = library.SherpaOnnxOfflineTtsGenerateWithConfig
    timed = ctypes.CDLL(os.environ["SHIM_SO"]).SherpaOnnxOfflineTtsGenerateWithConfig
    timed.restype, timed.argtypes = real.restype, real.argtypes
    library.SherpaOnnxOfflineTtsGenerateWithConfig = timed
    return library


sherpa_engine.load_library = load_library
sys.argv = ["pytest_kokoro.harness", *sys.argv[1:]]
runpy.run_module("pytest_kokoro.harness", run_name="__main__")
