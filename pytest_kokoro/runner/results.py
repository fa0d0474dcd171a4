"""Results on disk: the Python-schema JSON array, rewritten atomically after every run, and WAVs."""

from __future__ import annotations

import wave
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_kokoro.core.jsonfile import claim_new_path, write_json_atomically

if TYPE_CHECKING:
    import numpy as np


def results_file_name(now: datetime | None = None) -> str:
    return f"benchmark_results_{(now or datetime.now()).strftime('%Y%m%d_%H%M%S')}.json"


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    import numpy as np

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
        self._claimed = False

    def add(self, result: dict[str, Any], audio: np.ndarray | None = None) -> Path | None:
        if not self._claimed:  # the first result claims a name no other run has (nothing is created before)
            self.path, self._claimed = claim_new_path(self.path), True
        self.results.append(result)
        write_json_atomically(self.path, self.results)
        if self.write_wavs and audio is not None:
            wav = self.directory / f"{len(self.results):02d}_Kokoro-82M-{result['variant']}_{result['voice']}.wav"
            write_wav(wav, audio, result["sample_rate"])
            return wav
        return None
