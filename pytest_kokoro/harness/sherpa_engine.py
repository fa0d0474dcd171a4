"""The host's sherpa-onnx engine: Kokoro-82M int8 through ctypes over sherpa-onnx's C library.

It calls the very libsherpa-onnx-c-api (and the onnxruntime bundled with it) that the Swift harness links (PyPI
sherpa-onnx-core 2.0.1), not the `sherpa-onnx` Python package, whose extension module compiles its own copy of
sherpa-onnx: so Python and Swift run the same engine build and their numbers differ only by the harness around it.
Phonemes come from the host engine's tokenizer (kokoro-onnx + espeak-ng) and go in as ``phoneme_codepoints``;
the model folder is derived by ``pytest_kokoro.harness.sherpa_model``. Struct layouts: sherpa_onnx/include/
sherpa-onnx/c-api/c-api.h of 2.0.1 (SherpaOnnxOfflineTtsConfig and its members, SherpaOnnxGenerationConfig,
SherpaOnnxGeneratedAudio); header and library must be that version.
"""

from __future__ import annotations

import ctypes as C
import importlib.metadata
import json
import os
from pathlib import Path

import numpy as np
from kokoro_onnx.config import DEFAULT_VOCAB
from kokoro_onnx.tokenizer import Tokenizer

from pytest_kokoro.harness.onnx_engine import MAX_TOKENS, EngineError, LoadedVariant
from pytest_kokoro.harness.sherpa_model import sherpa_library_dir, sherpa_model_dir

SHERPA_VERSION = "2.0.1"
INSTALL_HINT = f"pip install sherpa-onnx-core=={SHERPA_VERSION} (./scripts/bootstrap installs it into .venv)"

_P, _F, _I = C.c_char_p, C.c_float, C.c_int32


def _struct(name: str, fields: list[tuple[str, object]]) -> type[C.Structure]:
    return type(name, (C.Structure,), {"_fields_": fields})


_Vits = _struct("Vits", [("model", _P), ("lexicon", _P), ("tokens", _P), ("data_dir", _P), ("noise_scale", _F),
                         ("noise_scale_w", _F), ("length_scale", _F), ("dict_dir", _P)])
_Matcha = _struct("Matcha", [("acoustic_model", _P), ("vocoder", _P), ("lexicon", _P), ("tokens", _P),
                             ("data_dir", _P), ("noise_scale", _F), ("length_scale", _F), ("dict_dir", _P)])
_Kokoro = _struct("Kokoro", [("model", _P), ("voices", _P), ("tokens", _P), ("data_dir", _P), ("length_scale", _F),
                             ("dict_dir", _P), ("lexicon", _P), ("lang", _P)])
_Kitten = _struct("Kitten", [("model", _P), ("voices", _P), ("tokens", _P), ("data_dir", _P), ("length_scale", _F),
                             ("lexicon", _P)])
_Zipvoice = _struct("Zipvoice", [("tokens", _P), ("encoder", _P), ("decoder", _P), ("vocoder", _P), ("data_dir", _P),
                                 ("lexicon", _P), ("feat_scale", _F), ("t_shift", _F), ("target_rms", _F),
                                 ("guidance_scale", _F)])
_Pocket = _struct("Pocket", [(n, _P) for n in ("lm_flow", "lm_main", "encoder", "decoder", "text_conditioner",
                                               "vocab_json", "token_scores_json")]
                  + [("voice_embedding_cache_capacity", _I)])
_Supertonic = _struct("Supertonic", [(n, _P) for n in ("duration_predictor", "text_encoder", "vector_estimator",
                                                       "vocoder", "tts_json", "unicode_indexer", "voice_style")])
_ModelConfig = _struct("ModelConfig", [("vits", _Vits), ("num_threads", _I), ("debug", _I), ("provider", _P),
                                       ("matcha", _Matcha), ("kokoro", _Kokoro), ("kitten", _Kitten),
                                       ("zipvoice", _Zipvoice), ("pocket", _Pocket), ("supertonic", _Supertonic)])
_TtsConfig = _struct("TtsConfig", [("model", _ModelConfig), ("rule_fsts", _P), ("max_num_sentences", _I),
                                   ("rule_fars", _P), ("silence_scale", _F)])
_GenerationConfig = _struct("GenerationConfig", [
    ("silence_scale", _F), ("speed", _F), ("sid", _I), ("reference_audio", C.POINTER(_F)),
    ("reference_audio_len", _I), ("reference_sample_rate", _I), ("reference_text", _P), ("num_steps", _I),
    ("extra", _P), ("phoneme_codepoints", C.POINTER(_I)), ("phoneme_codepoints_lens", C.POINTER(_I)),
    ("phoneme_codepoints_num_sentences", _I), ("tokens", C.POINTER(_P)), ("tokens_lens", C.POINTER(_I)),
    ("tokens_num_sentences", _I)])
_GeneratedAudio = _struct("GeneratedAudio", [("samples", C.POINTER(_F)), ("n", _I), ("sample_rate", _I)])


def load_library() -> C.CDLL:
    libs = sherpa_library_dir()
    if libs is None:
        raise EngineError("missing_file", f"the sherpa-onnx engine needs libsherpa-onnx-c-api: {INSTALL_HINT}")
    lib = C.CDLL(str(next(libs.glob("libsherpa-onnx-c-api.*"))))
    lib.SherpaOnnxCreateOfflineTts.restype = C.c_void_p
    lib.SherpaOnnxCreateOfflineTts.argtypes = [C.POINTER(_TtsConfig)]
    lib.SherpaOnnxDestroyOfflineTts.argtypes = [C.c_void_p]
    lib.SherpaOnnxOfflineTtsGenerateWithConfig.restype = C.POINTER(_GeneratedAudio)
    lib.SherpaOnnxOfflineTtsGenerateWithConfig.argtypes = [C.c_void_p, _P, C.POINTER(_GenerationConfig), C.c_void_p,
                                                           C.c_void_p]
    lib.SherpaOnnxDestroyOfflineTtsGeneratedAudio.argtypes = [C.POINTER(_GeneratedAudio)]
    for name in ("SherpaOnnxGetVersionStr", "SherpaOnnxGetGitSha1"):
        getattr(lib, name).restype = C.c_char_p
    return lib


def onnxruntime_version_of(libs: Path) -> str:
    """The version of the onnxruntime next to the sherpa library: OrtGetApiBase()->GetVersionString()."""
    ort = C.CDLL(str(next(libs.glob("libonnxruntime.*"))))
    ort.OrtGetApiBase.restype = C.POINTER(C.c_void_p)
    return C.CFUNCTYPE(C.c_char_p)(ort.OrtGetApiBase()[1])().decode()


class SherpaKokoroEngine:
    name = "sherpa-onnx"
    simulated = False

    def __init__(self, num_threads: int | None = None):
        self._lib = load_library()
        self._folder = sherpa_model_dir()
        self._manifest = json.loads((self._folder / "manifest.json").read_text())
        self._threads = num_threads or os.cpu_count() or 1
        self._tts: int | None = None
        self._tokenizer = Tokenizer(vocab=self._vocabulary())
        self.onnxruntime_version = onnxruntime_version_of(sherpa_library_dir())
        sherpa = f"{self._lib.SherpaOnnxGetVersionStr().decode()} ({self._lib.SherpaOnnxGetGitSha1().decode()})"
        self.version = (f"sherpa-onnx {sherpa}, onnxruntime {self.onnxruntime_version}, kokoro-onnx "
                        f"{importlib.metadata.version('kokoro-onnx')} phonemes")

    def _vocabulary(self) -> dict[str, int]:
        vocab = {}
        for line in (self._folder / "tokens.txt").read_text(encoding="utf-8").splitlines():
            if line:
                vocab[line[0]] = int(line[2:])
        return vocab or DEFAULT_VOCAB

    def variants(self) -> list[str]:
        return ["int8"]

    def voices(self) -> list[str]:
        return list(self._manifest["voices"])

    def is_loaded(self, variant: str) -> bool:
        return variant == "int8" and self._tts is not None

    def load(self, variant: str) -> LoadedVariant:
        if variant != "int8":
            raise EngineError("unknown_variant", f"variant {variant!r} is not known to the sherpa-onnx engine; it has int8")
        if self._tts is None:
            keep = [str(self._folder / name).encode() for name in ("model.onnx", "voices.bin", "tokens.txt")]
            config = _TtsConfig()
            config.model.kokoro.model, config.model.kokoro.voices, config.model.kokoro.tokens = keep
            config.model.kokoro.length_scale = 1.0
            config.model.num_threads = self._threads
            config.model.provider = b"cpu"
            config.max_num_sentences = 1
            config.silence_scale = 1.0
            self._tts = self._lib.SherpaOnnxCreateOfflineTts(C.byref(config))
            if not self._tts:
                self._tts = None
                raise EngineError("missing_file", f"sherpa-onnx could not load {self._folder} (see the harness log); "
                                  "re-derive it: python -m pytest_kokoro.harness.sherpa_model")
        return self.loaded(variant)

    def loaded(self, variant: str) -> LoadedVariant:
        return LoadedVariant(variant, self._manifest["model_name"], self._manifest["model_description"],
                             self._manifest["source_sha256"])

    def unload(self, variant: str) -> None:
        if self._tts is not None:
            self._lib.SherpaOnnxDestroyOfflineTts(self._tts)
            self._tts = None

    def voice(self, name: str) -> int:
        """The speaker id of a voice in the derived folder."""
        try:
            return self._manifest["voices"].index(name)
        except ValueError:
            raise EngineError("unknown_voice", f"voice {name!r} is not available; available: "
                              f"{', '.join(self.voices())}") from None

    def phonemes(self, text: str, voice_name: str) -> str:
        language = "en-gb" if voice_name[:1] == "b" else "en-us"
        phonemes = self._tokenizer.phonemize(text, language)
        if len(phonemes) > MAX_TOKENS:
            raise EngineError("text_too_long", f"chunk {text[:60]!r}... is {len(phonemes)} phoneme tokens, over "
                              f"Kokoro's {MAX_TOKENS}; break the text with punctuation")
        return phonemes

    def synthesize(self, variant: str, text: str, voice: int, voice_name: str, speed: float) -> np.ndarray:
        phonemes = self.phonemes(text, voice_name)
        if not phonemes:
            return np.zeros(0, dtype=np.float32)
        if self._tts is None:
            raise EngineError("engine_error", "synthesize called with no variant loaded")
        codepoints = (_I * len(phonemes))(*map(ord, phonemes))
        lengths = (_I * 1)(len(phonemes))
        config = _GenerationConfig(silence_scale=1.0, speed=speed, sid=voice, phoneme_codepoints=codepoints,
                                   phoneme_codepoints_lens=lengths, phoneme_codepoints_num_sentences=1)
        audio = self._lib.SherpaOnnxOfflineTtsGenerateWithConfig(self._tts, b"", C.byref(config), None, None)
        if not audio:
            raise EngineError("engine_error", f"sherpa-onnx generated nothing for {text[:60]!r} (see the harness log)")
        try:
            count = audio.contents.n
            return np.ctypeslib.as_array(audio.contents.samples, (count,)).copy() if count > 0 else np.zeros(0, np.float32)
        finally:
            self._lib.SherpaOnnxDestroyOfflineTtsGeneratedAudio(audio)
