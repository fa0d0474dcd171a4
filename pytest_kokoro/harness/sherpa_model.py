"""The model folder sherpa-onnx reads, derived from the host's int8 model and voices (nothing is downloaded).

sherpa-onnx's Kokoro loader wants, in one folder:
- ``model.onnx``: the ONNX model with metadata sample_rate, n_speakers, style_dim, version, has_espeak, voice. The
  metadata is appended to the int8 export as ModelProto field 14 (``metadata_props``) entries: a protobuf parser
  merges fields wherever they come, so the original bytes stay untouched (the file starts with the checked int8
  model) and no ONNX library is needed to write it;
- ``tokens.txt``: "symbol id" lines of the vocabulary the host engine tokenizes with (space included);
- ``voices.bin``: raw float32 (n_speakers, rows, 1, 256), speakers in ``manifest.json``'s order. sherpa takes the
  style row len(tokens) where kokoro-onnx and the host engine take len(tokens) - 1, so row k here is the voice's
  row k - 1 (row 0 repeats row 0) and there are 511 rows: the same style reaches the model for 1..510 tokens.

``manifest.json`` records the inputs' and outputs' sha256; the folder is re-derived when an input changed or a
file does not match. ``python -m pytest_kokoro.harness.sherpa_model`` derives it (scripts/bootstrap does) and
prints what the Swift harness needs: the folder, the espeak-ng library and data, the sherpa-onnx library.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

from pytest_kokoro.harness import model_files
from pytest_kokoro.harness.model_files import HOST_VARIANTS, INT8_FILE_NAME, ModelFileError, sha256_of

FOLDER_NAME = "sherpa-kokoro-int8"
FORMAT = 1  # bump when the derivation changes
STYLE_ROWS = 511
SAMPLE_RATE = 24000


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _length_delimited(field_number: int, payload: bytes) -> bytes:
    return _varint(field_number << 3 | 2) + _varint(len(payload)) + payload


def metadata_props(metadata: dict[str, str]) -> bytes:
    """ModelProto.metadata_props (field 14) entries, each a StringStringEntryProto {key = 1, value = 2}."""
    return b"".join(_length_delimited(14, _length_delimited(1, key.encode()) + _length_delimited(2, value.encode()))
                    for key, value in metadata.items())


def shifted_styles(voice: np.ndarray) -> np.ndarray:
    """A (510, 1, 256) style table as sherpa must see it: row k holds the voice's row k - 1."""
    voice = np.asarray(voice, dtype=np.float32)
    return np.concatenate([voice[:1], voice], axis=0)


def vocabulary() -> dict[str, int]:
    """The host engine's vocabulary (pytest_kokoro.harness.onnx_engine: embedded in the model, else kokoro-onnx's)."""
    import onnxruntime
    from kokoro_onnx.config import DEFAULT_VOCAB
    from kokoro_onnx.session import embedded_vocab

    session = onnxruntime.InferenceSession(str(model_files.int8_model_path()), providers=["CPUExecutionProvider"])
    return embedded_vocab(session) or DEFAULT_VOCAB


def _inputs() -> dict[str, str]:
    return {"format": str(FORMAT), "source_sha256": model_files.expected_int8_sha256(),
            "voices_sha256": sha256_of(model_files.japanese_voice_pack())}


def folder() -> Path:
    return model_files.cache_dir() / FOLDER_NAME


def sherpa_model_dir(verify: bool = False) -> Path:
    """The derived folder, derived first when missing or stale. ``verify`` re-hashes every file (slower)."""
    target = folder()
    manifest_path = target / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = None
    inputs = _inputs()
    if manifest is not None and all(manifest.get(k) == v for k, v in inputs.items()):
        if not verify or all(sha256_of(target / name) == digest for name, digest in manifest["files"].items()):
            return target
    return derive(target, inputs)


def derive(target: Path, inputs: dict[str, str]) -> Path:
    pack = np.load(model_files.japanese_voice_pack())
    voices = sorted(pack.files)
    metadata = {"model_type": "kokoro", "sample_rate": str(SAMPLE_RATE), "n_speakers": str(len(voices)),
                "style_dim": f"{STYLE_ROWS},1,256", "version": "2", "has_espeak": "1", "voice": "en-us",
                "speaker_names": ",".join(voices)}
    staging = target.with_name(f"{target.name}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with open(staging / "model.onnx", "wb") as out, open(model_files.int8_model_path(), "rb") as source:
        shutil.copyfileobj(source, out, 1 << 20)
        out.write(metadata_props(metadata))
    with open(staging / "tokens.txt", "w", encoding="utf-8") as out:
        for symbol, token_id in sorted(vocabulary().items(), key=lambda item: item[1]):
            out.write(f"{symbol} {token_id}\n")
    np.stack([shifted_styles(pack[name]) for name in voices]).astype("<f4").tofile(staging / "voices.bin")
    files = {name: sha256_of(staging / name) for name in ("model.onnx", "tokens.txt", "voices.bin")}
    manifest = {**inputs, "voices": voices, "model_name": INT8_FILE_NAME,
                "model_description": HOST_VARIANTS["int8"].model_description, "metadata": metadata, "files": files}
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    return target


def sherpa_library_dir() -> Path | None:
    """The folder of libsherpa-onnx-c-api and its onnxruntime (PyPI sherpa-onnx-core), or None."""
    try:
        from sherpa_onnx import _info
    except ImportError:
        return None
    libs = Path(_info.get_libs_dir())
    return libs if any(libs.glob("libsherpa-onnx-c-api.*")) else None


def espeak_paths() -> tuple[str, str]:
    """The espeak-ng library and data the host engine phonemizes with (kokoro-onnx's Tokenizer rule)."""
    import espeakng_loader

    return os.environ.get("PHONEMIZER_ESPEAK_LIBRARY") or espeakng_loader.get_library_path(), espeakng_loader.get_data_path()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        directory = sherpa_model_dir(verify="--verify" in args)
    except ModelFileError as error:
        print(f"cannot derive the sherpa-onnx model folder: {error}", file=sys.stderr)
        return 1
    library, data = espeak_paths()
    libs = sherpa_library_dir()
    print(json.dumps({"model_dir": str(directory), "espeak_library": library, "espeak_data": data,
                      "sherpa_library_dir": str(libs) if libs else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
