"""Results on disk: the Python-schema JSON array, rewritten atomically after every run, and WAVs."""

from __future__ import annotations

import json
import os
import tempfile
import wave
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from pytest_kokoro.core.metrics import SAMPLE_RATE


def results_file_name(now: datetime | None = None) -> str:
    return f"benchmark_results_{(now or datetime.now()).strftime('%Y%m%d_%H%M%S')}.json"


def write_json_atomically(path: Path, data: Any) -> None:
    """Write ``data`` as JSON so that a reader (or a crash) sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, ensure_ascii=False)
            out.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_wav(path: Path, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    pcm = (np.clip(np.nan_to_num(samples), -1.0, 1.0) * 32767).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())


HELLO_FACTS = ("platform", "device_model", "os_version", "engine", "engine_version", "harness", "harness_version",
               "simulated")


def device_facts(device_label: str, hello: dict[str, Any]) -> dict[str, Any]:
    """What pytest-benchmark's machine_info says about the device: its label and its harness's hello facts."""
    return {"device": device_label, **{key: hello.get(key) for key in HELLO_FACTS}}


class ResultsWriter:
    """Collects results of one test run in ``directory``; the file on disk is complete after every ``add``."""

    def __init__(self, directory: Path, file_name: str | None = None, write_wavs: bool = False):
        self.directory = Path(directory)
        self.path = self.directory / (file_name or results_file_name())
        self.write_wavs = write_wavs
        self.results: list[dict[str, Any]] = []

    def add(self, result: dict[str, Any], audio: np.ndarray | None = None) -> Path | None:
        self.results.append(result)
        write_json_atomically(self.path, self.results)
        if self.write_wavs and audio is not None:
            wav = self.directory / f"{len(self.results):02d}_Kokoro-82M-{result['variant']}_{result['voice']}.wav"
            write_wav(wav, audio, result["sample_rate"])
            return wav
        return None
