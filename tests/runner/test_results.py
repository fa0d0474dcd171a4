import json
import wave

import numpy as np

from pytest_kokoro.runner.results import ResultsWriter, results_file_name, write_json_atomically


def test_file_name_follows_the_reference():
    from datetime import datetime

    assert results_file_name(datetime(2025, 8, 27, 16, 57, 49)) == "benchmark_results_20250827_165749.json"


def test_every_add_leaves_a_complete_file_and_no_temporaries(tmp_path):
    writer = ResultsWriter(tmp_path, "r.json", write_wavs=True)
    audio = (0.5 * np.sin(np.arange(2400))).astype(np.float32)
    for index in range(3):
        wav = writer.add({"variant": "int8", "voice": "jf_alpha", "sample_rate": 24000, "round": index}, audio)
        assert [r["round"] for r in json.loads((tmp_path / "r.json").read_text())] == list(range(index + 1))
        assert wav.name == f"{index + 1:02d}_Kokoro-82M-int8_jf_alpha.wav"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    with wave.open(str(tmp_path / "01_Kokoro-82M-int8_jf_alpha.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()) == (24000, 1, 2, 2400)


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "r.json"
    write_json_atomically(path, [1])
    try:
        write_json_atomically(path, [object()])
    except TypeError:
        pass
    assert json.loads(path.read_text()) == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
