"""The sherpa-onnx engine: its model folder, its tokens (the host's, and the Swift harness's), and real rounds."""

from __future__ import annotations

import hashlib
import json
import subprocess

import numpy as np
import onnxruntime
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_kokoro.core.sentences import split_sentences
from pytest_kokoro.devices.subprocess import IOS_HARNESS_DIR, SWIFT_PRODUCT
from pytest_kokoro.fuzz import texts as fuzz
from pytest_kokoro.harness import model_files, sherpa_model
from pytest_kokoro.harness.onnx_engine import OnnxKokoroEngine
from pytest_kokoro.harness.sherpa_model import sherpa_library_dir
from tests.conftest import load_spec

needs_sherpa = pytest.mark.skipif(sherpa_library_dir() is None,
                                  reason="needs sherpa-onnx's C library: pip install sherpa-onnx-core==2.0.1")
SWIFT_BINARY = IOS_HARNESS_DIR / ".build" / "release" / SWIFT_PRODUCT


@pytest.fixture(scope="module")
def host_engine():
    engine = OnnxKokoroEngine()
    engine.load("int8")
    return engine


def test_spec_tokens_are_what_the_host_engine_sends(host_engine):
    """spec/phoneme_tokens.json is the host's truth; the Swift tests hold the Swift phonemizer to it."""
    cases = load_spec("phoneme_tokens.json")["cases"]
    assert len(cases) > 20
    for case in cases:
        voice = "bf_emma" if case["language"] == "en-gb" else "af_heart"  # the host picks the language by voice
        assert host_engine.tokens(case["text"], voice) == case["tokens"], case["name"]


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    target = tmp_path_factory.mktemp("cache") / sherpa_model.FOLDER_NAME
    original = sherpa_model.folder
    sherpa_model.folder = lambda: target
    try:
        yield sherpa_model.sherpa_model_dir()
    finally:
        sherpa_model.folder = original


def test_model_folder_keeps_the_int8_bytes_and_adds_what_sherpa_reads(derived):
    manifest = json.loads((derived / "manifest.json").read_text())
    int8 = model_files.int8_model_path()
    with open(derived / "model.onnx", "rb") as handle:
        head = handle.read(int8.stat().st_size)
    assert hashlib.sha256(head).hexdigest() == model_files.expected_int8_sha256() == manifest["source_sha256"]
    session = onnxruntime.InferenceSession(str(derived / "model.onnx"), providers=["CPUExecutionProvider"])
    metadata = session.get_modelmeta().custom_metadata_map
    assert metadata["style_dim"] == "511,1,256" and metadata["n_speakers"] == str(len(manifest["voices"]))
    assert {"sample_rate", "version", "has_espeak", "voice"} <= set(metadata)
    assert "  16" in (derived / "tokens.txt").read_text(encoding="utf-8").splitlines()  # the space


def test_voices_bin_is_shifted_one_row_for_sherpas_style_pick(derived):
    manifest = json.loads((derived / "manifest.json").read_text())
    styles = np.fromfile(derived / "voices.bin", dtype="<f4").reshape(len(manifest["voices"]), 511, 1, 256)
    pack = np.load(model_files.japanese_voice_pack())
    for index, name in enumerate(manifest["voices"]):
        voice = pack[name]
        # sherpa reads row len(tokens); the host reads voice[len(tokens) - 1]: the same vector for 1..510 tokens
        for tokens in (1, 5, 74, 509, 510):
            assert np.array_equal(styles[index, tokens], voice[tokens - 1])


def test_a_corrupt_file_is_rederived_when_verified(derived):
    manifest = json.loads((derived / "manifest.json").read_text())
    with open(derived / "voices.bin", "r+b") as handle:
        handle.write(b"\0" * 16)
    assert sherpa_model.sherpa_model_dir(verify=False) == derived  # the quick check trusts the manifest
    sherpa_model.sherpa_model_dir(verify=True)
    assert hashlib.sha256((derived / "voices.bin").read_bytes()).hexdigest() == manifest["files"]["voices.bin"]


def swift_tokens(chunks: list[str], language: str = "en-us") -> list[list[int]]:
    library, data = sherpa_model.espeak_paths()
    done = subprocess.run([str(SWIFT_BINARY), "--tokens", "--language", language, "--sherpa-model",
                           str(sherpa_model.sherpa_model_dir()), "--espeak-library", library, "--espeak-data", data],
                          input="".join(json.dumps(c) + "\n" for c in chunks), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


speakable = st.one_of(fuzz.normal, fuzz.punctuation_only, fuzz.emoji, fuzz.scripts, fuzz.numbers, fuzz.markup,
                      fuzz.whitespace_only, fuzz.control, fuzz.ansi,
                      st.text(st.sampled_from("abc xyz.,;:!?\"'()[]{}«»“”—…¡¿-0123456789\n\t "), max_size=60))


@pytest.mark.skipif(not SWIFT_BINARY.is_file(), reason="needs the Swift CLI: cd ios-harness && swift build -c release")
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(texts=st.lists(speakable, min_size=10, max_size=25))
def test_swift_tokens_are_the_python_tokens_on_generated_texts(host_engine, texts):
    """Differential fuzzing: every chunk the harness would hand the engine gets the same tokens in Swift."""
    chunks = [c for text in texts for c in split_sentences(text) if c.encode("utf-8", "surrogatepass") == c.encode(
        "utf-8", "replace")]
    expected = [host_engine.tokens(c, "af_heart") if len(c) < 2000 else None for c in chunks]
    chunks = [c for c, e in zip(chunks, expected) if e is not None]
    assert swift_tokens(chunks) == [e for e in expected if e is not None]


@needs_sherpa
def test_host_sherpa_engine_names_its_build():
    from pytest_kokoro.harness.sherpa_engine import SherpaKokoroEngine

    engine = SherpaKokoroEngine(num_threads=1)
    assert engine.name == "sherpa-onnx" and engine.version.startswith("sherpa-onnx 2.0.1")
    assert engine.onnxruntime_version.split(".")[0].isdigit()
    assert engine.voices() == sorted(np.load(model_files.japanese_voice_pack()).files)
    with pytest.raises(Exception, match="not available"):
        engine.voice("af_heart")


@needs_sherpa
@pytest.mark.skipif(not SWIFT_BINARY.is_file(), reason="needs the Swift CLI: cd ios-harness && swift build -c release")
def test_swift_and_python_run_the_same_engine_build(tmp_path):
    """Same library, same tokens, same style row: the Swift harness's audio is the Python harness's, sample for
    sample (what makes their timings comparable)."""
    from pytest_kokoro.devices.subprocess import host_device, swift_device

    audio = {}
    for name, device in (("python", host_device(tmp_path, {}, None, engine="sherpa-onnx")),
                         ("swift", swift_device(tmp_path, engine="sherpa-onnx"))):
        client = device.start(600.0)
        try:
            outcome = client.run(text="Hi there, friend.", voice="jf_gongitsune", variant="int8", warmup=False,
                                 send_audio=True)
            assert outcome.result["engine"] == "sherpa-onnx" and outcome.result["onnxruntime_version"] == "1.28.2"
            audio[name] = outcome.audio
        finally:
            client.shutdown()
            device.stop()
    assert audio["python"].size > 12000
    assert np.array_equal(audio["python"], audio["swift"])
