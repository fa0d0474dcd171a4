"""The host's MLX engine: mlx-audio's Python Kokoro (the reference kokoro_benchmark.py's own engine) on MLX.

Variants bf16, 8bit, 6bit, 4bit, named as on the phone. Weights, in this order:
1. a folder the user gives (``--model VARIANT=PATH``, the plugin's ``--kokoro-model``), e.g. a copy of
   mlx-community/Kokoro-82M-bf16;
2. the official mlx-community folder in the local Hugging Face cache (looked up, never downloaded);
3. the variant derived from the installed int8 ONNX model (``pytest_kokoro.harness.mlx_weights``).
Every result names where its weights came from (``weights_source``); derived weights never pass for official ones.

mlx and mlx-audio are imported when the engine is built, never by the plugin. Phonemes come from the same tokenizer
as the onnxruntime engine (kokoro-onnx + espeak-ng), so both engines get the same phoneme string for a chunk.
MLX's own allocator peak (``mx.get_peak_memory``, reset per round) is reported beside the process's VmHWM.
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import numpy as np

from pytest_kokoro.harness import mlx_weights, model_files
from pytest_kokoro.harness.model_files import ENGLISH_VOICES, VOICE_PACK_HINT, ModelFileError
from pytest_kokoro.harness.onnx_engine import MAX_TOKENS, EngineError, LoadedVariant, load_voice_packs

MLX_VERSION = "0.32.4"
MLX_AUDIO_VERSION = "0.6.2"
OFFICIAL_REPO = "mlx-community/Kokoro-82M-{variant}"
DESCRIPTIONS = {"bf16": "Kokoro 82M (bfloat16 MLX)", "8bit": "Kokoro 82M (8-bit MLX)",
                "6bit": "Kokoro 82M (6-bit MLX)", "4bit": "Kokoro 82M (4-bit MLX)"}
GIB = 1024 ** 3


def hugging_face_folder(variant: str) -> Path | None:
    """The official mlx-community folder of ``variant`` in the local Hugging Face cache, if it is there (the
    newest snapshot holding config.json and kokoro-v1_0.safetensors). Only looked up: nothing is downloaded."""
    hub = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface"), "hub")
    snapshots = Path(hub) / f"models--{OFFICIAL_REPO.format(variant=variant).replace('/', '--')}" / "snapshots"
    if not snapshots.is_dir():
        return None
    complete = [s for s in snapshots.iterdir() if (s / "config.json").is_file()
                and (s / mlx_weights.WEIGHTS_FILE).is_file()]
    return max(complete, key=lambda s: s.stat().st_mtime) if complete else None


class MlxKokoroEngine:
    name = "mlx"
    simulated = False
    takes_user_files = True  # --model VARIANT=FOLDER (an official mlx-community folder) and --voice-pack
    onnxruntime_version = None  # MLX runs the model; no onnxruntime involved

    def __init__(self, user_folders: dict[str, str] | None = None, voice_pack: str | None = None):
        try:
            import mlx.core as mx
            from kokoro_onnx.tokenizer import Tokenizer
        except ImportError as error:
            raise EngineError("missing_file", f"the mlx engine needs MLX and mlx-audio ({error}): "
                              f"{mlx_weights.MLX_INSTALL_HINT}") from error
        self._mx = mx
        # Other names (fp32=..., fp16=...) are ONNX files for the onnxruntime engine of the same run.
        self._user_folders = {v: p for v, p in (user_folders or {}).items() if v in mlx_weights.VARIANTS}
        self._voice_pack = voice_pack
        self._models: dict[str, object] = {}
        self._loaded: dict[str, LoadedVariant] = {}
        self._sources: dict[str, str] = {}
        self._folders: dict[str, Path] = {}
        self._vocab = mlx_weights.kokoro_config()["vocab"]
        self._tokenizer = Tokenizer(vocab=self._vocab)
        self._voice_files: list[object] | None = None
        self.version = (f"mlx {importlib.metadata.version('mlx')} ({mx.default_device()}), mlx-audio "
                        f"{importlib.metadata.version('mlx-audio')}, kokoro-onnx "
                        f"{importlib.metadata.version('kokoro-onnx')} phonemes")

    # --- variants and weights ---

    def variants(self) -> list[str]:
        return list(mlx_weights.VARIANTS)

    def is_loaded(self, variant: str) -> bool:
        return variant in self._models

    def _folder(self, variant: str) -> tuple[Path, str, str, str, str]:
        """The folder of ``variant``, its weights_source, the weights file's sha256, model_name and description.
        Derived weights are named so in all three, so they never read as mlx-community's."""
        if variant not in mlx_weights.VARIANTS:
            raise EngineError("unknown_variant", f"variant {variant!r} is not known to the mlx engine; known: "
                              f"{', '.join(mlx_weights.VARIANTS)}")
        if variant in self._user_folders:
            path = Path(self._user_folders[variant]).expanduser()
            if not path.is_dir():
                raise EngineError("missing_file", f"the {variant} MLX folder {path} does not exist: pass "
                                  f"--kokoro-model {variant}=PATH/Kokoro-82M-{variant} (a copy of "
                                  f"{OFFICIAL_REPO.format(variant=variant)})")
            weights = self._weights_file(path)
            sha256 = model_files.sha256_of(weights)
            return (path, f"folder {path} ({weights.name} sha256 {sha256})", sha256, f"Kokoro-82M-{variant}",
                    f"{DESCRIPTIONS[variant]}, folder {path.name}")
        official = hugging_face_folder(variant)
        if official is not None:
            weights = self._weights_file(official)
            sha256 = model_files.sha256_of(weights)
            repo = OFFICIAL_REPO.format(variant=variant)
            return (official, f"official {repo} (Hugging Face cache, snapshot {official.name}, {weights.name} "
                    f"sha256 {sha256})", sha256, repo, DESCRIPTIONS[variant])
        try:
            path = mlx_weights.derived_folder(variant)
            record = mlx_weights.manifest(variant)
        except (mlx_weights.MlxWeightsError, ModelFileError) as error:
            raise EngineError("missing_file", f"the {variant} MLX weights cannot be derived: {error}") from error
        return (path, f"derived from {record['source_file']} (sha256 {record['source_sha256']}) by pytest-kokoro, "
                f"not official mlx-community weights", record["files"][mlx_weights.WEIGHTS_FILE],
                f"Kokoro-82M-{variant}-derived", f"{DESCRIPTIONS[variant]}, derived from the int8 ONNX model")

    @staticmethod
    def _weights_file(folder: Path) -> Path:
        weights = folder / mlx_weights.WEIGHTS_FILE
        if not (folder / "config.json").is_file() or not weights.is_file():
            raise EngineError("missing_file", f"{folder} is not an MLX Kokoro folder: it needs config.json and "
                              f"{mlx_weights.WEIGHTS_FILE} (as mlx-community/Kokoro-82M-bf16 has)")
        return weights

    def load(self, variant: str) -> LoadedVariant:
        path, source, sha256, model_name, description = self._folder(variant)
        try:
            model = mlx_weights.load(path)
        except (ValueError, FileNotFoundError, KeyError) as error:  # mlx-audio's loader: bad shapes, missing files
            raise EngineError("missing_file", f"{path} does not load in mlx-audio's Kokoro ({error}); replace it "
                              "or remove it to use the derived weights") from error
        self._models[variant] = model
        self._sources[variant] = source
        self._folders[variant] = path
        loaded = LoadedVariant(variant, model_name, description, sha256)
        self._loaded[variant] = loaded
        return loaded

    def loaded(self, variant: str) -> LoadedVariant:
        return self._loaded[variant]

    def unload(self, variant: str) -> None:
        self._models.pop(variant, None)
        self._loaded.pop(variant, None)
        self._mx.clear_cache()

    def weights_source(self, variant: str) -> str:
        return self._sources[variant]

    # --- voices ---

    def _voice_folders(self) -> list[Path]:
        """voices/ of the MLX folders this engine may use (official or the user's): <name>.safetensors each."""
        folders = [Path(p).expanduser() for p in self._user_folders.values()]
        folders += [f for f in (hugging_face_folder(v) for v in mlx_weights.VARIANTS) if f is not None]
        return [f / "voices" for f in folders if (f / "voices").is_dir()]

    def voices(self) -> list[str]:
        names = set(np.load(model_files.japanese_voice_pack()).files)
        names |= {path.stem for folder in self._voice_folders() for path in folder.glob("*.safetensors")}
        if self._voice_pack:
            try:
                names |= set(np.load(self._voice_pack).files)
            except (OSError, ValueError):
                pass  # reported when a voice from it is asked for
        return sorted(names)

    def voice(self, name: str) -> np.ndarray:
        """The voice's style table, (510, 1, 256): from the same packs as the onnxruntime engine, else from an MLX
        folder's voices/ (mlx-audio's load_voice_tensor)."""
        for pack in self._packs():
            if name in pack.files:
                return np.asarray(pack[name], dtype=np.float32)
        for folder in self._voice_folders():  # an mlx-community folder's voices/af_heart.safetensors
            if (folder / f"{name}.safetensors").is_file():
                from mlx_audio.tts.models.kokoro.voice import load_voice_tensor

                table = load_voice_tensor(str(folder / f"{name}.safetensors"))
                return np.asarray(table.astype(self._mx.float32), dtype=np.float32).reshape(-1, 1, 256)
        if name in ENGLISH_VOICES and not self._voice_pack:
            raise EngineError("missing_file", f"voice {name!r} is in the English voice pack: pass {VOICE_PACK_HINT}")
        raise EngineError("unknown_voice", f"voice {name!r} is not available; available: {', '.join(self.voices())}")

    def _packs(self) -> list:
        if self._voice_files is None:
            self._voice_files = load_voice_packs(self._voice_pack)
        return self._voice_files

    # --- synthesis ---

    def phonemes(self, text: str, voice_name: str) -> str:
        language = "en-gb" if voice_name[:1] == "b" else "en-us"
        phonemes = self._tokenizer.phonemize(text, language)
        count = len(self.tokens(phonemes))
        if count > MAX_TOKENS:
            raise EngineError("text_too_long", f"chunk {text[:60]!r}... is {count} phoneme tokens, over Kokoro's "
                              f"{MAX_TOKENS}; break the text with punctuation")
        return phonemes

    def tokens(self, phonemes: str) -> list[int]:
        """The token ids mlx-audio's Model makes of ``phonemes`` (its vocabulary, unknown symbols dropped)."""
        return [self._vocab[symbol] for symbol in phonemes if symbol in self._vocab]

    def model(self, variant: str):
        model = self._models.get(variant)
        if model is None:
            raise EngineError("engine_error", f"variant {variant!r} is not loaded")
        return model

    def synthesize(self, variant: str, text: str, voice: np.ndarray, voice_name: str, speed: float) -> np.ndarray:
        """Samples for one chunk; mlx-audio's Model evaluates the graph (mx.eval) before it returns."""
        phonemes = self.phonemes(text, voice_name)
        if not phonemes:
            return np.zeros(0, dtype=np.float32)
        return self.infer(variant, phonemes, voice, speed)

    def infer(self, variant: str, phonemes: str, voice: np.ndarray, speed: float, durations: bool = False):
        """mlx-audio's Kokoro on one phoneme string; ``durations`` also returns the frames per token."""
        model = self.model(variant)
        count = len(self.tokens(phonemes))
        style = self._mx.array(np.asarray(voice[min(count, len(voice)) - 1], dtype=np.float32).reshape(1, -1))
        output = model(phonemes, style, speed, return_output=True)
        audio = np.asarray(output.audio, dtype=np.float32).ravel()
        return (audio, np.asarray(output.pred_dur)) if durations else audio

    # --- MLX's own memory ---

    def reset_peak_memory(self) -> None:
        self._mx.reset_peak_memory()

    def peak_memory_gb(self) -> float:
        return self._mx.get_peak_memory() / GIB

    def result_extras(self, variant: str) -> dict:
        """The engine's keys on a result, after the harness's (docs/results.md)."""
        return {"weights_source": self.weights_source(variant), "mlx_peak_memory_gb": self.peak_memory_gb()}
