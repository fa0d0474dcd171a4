"""How closely the mlx engine agrees with the onnxruntime engine on the same phonemes, voice and speed.

Waveforms are not compared: mlx-audio's source module draws random noise and phase, so samples never line up.
What is compared, stage by stage:
- durations: frames per token (the ONNX graph's ``/encoder/Clip_output_0`` against mlx-audio's ``pred_dur``);
- F0 and N: the predicted pitch and energy curves (``/encoder/Squeeze_output_0`` and ``Squeeze_1``, exposed as extra
  graph outputs, against the inputs mlx-audio's Model hands its decoder);
- the spectrum: correlation of the log-magnitude spectrograms, and the level (RMS, dB) of MLX against ONNX.

``python -m pytest_kokoro.harness.mlx_agreement --text "Hi there."`` prints the numbers for every variant
(tests/harness/test_mlx_agreement.py holds the thresholds).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass

import numpy as np

from pytest_kokoro.harness import model_files

# Intermediate tensors of kokoro-v1.0.int8.onnx, by node output name.
ONNX_DURATIONS = "/encoder/Clip_output_0"
ONNX_F0 = "/encoder/Squeeze_output_0"
ONNX_N = "/encoder/Squeeze_1_output_0"


@dataclass(frozen=True)
class Agreement:
    variant: str
    tokens: int
    frames_onnx: int
    frames_mlx: int
    durations_off: int  # tokens whose frame count differs
    durations_max_off: int  # the largest difference, in frames
    f0_correlation: float
    n_correlation: float
    spectrum_correlation: float
    level_db: float  # RMS of MLX audio over onnxruntime's, in dB
    samples_onnx: int
    samples_mlx: int

    @property
    def length_ratio(self) -> float:
        return self.samples_mlx / self.samples_onnx


class OnnxReference:
    """The int8 model on onnxruntime with the durations, F0 and N curves as extra outputs."""

    def __init__(self):
        import onnx
        import onnxruntime

        model = onnx.load(str(model_files.int8_model_path()))
        for name in (ONNX_DURATIONS, ONNX_F0, ONNX_N):
            model.graph.output.append(onnx.ValueInfoProto(name=name))
        self.session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])

    def run(self, tokens: list[int], style: np.ndarray, speed: float) -> dict[str, np.ndarray]:
        audio, durations, f0, n = self.session.run(None, {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": np.asarray(style, dtype=np.float32).reshape(1, -1),
            "speed": np.array([speed], dtype=np.float32)})
        return {"audio": np.asarray(audio, np.float32).ravel(), "durations": np.asarray(durations).ravel(),
                "f0": np.asarray(f0, np.float32).ravel(), "n": np.asarray(n, np.float32).ravel()}


class _DecoderInputs:
    """Stands in for the model's decoder for one call, keeping what mlx-audio's Model.__call__ hands it."""

    def __init__(self, mx):
        self._mx = mx
        self.inputs = None

    def __call__(self, asr, f0, n, style):
        self.inputs = (asr, f0, n, style)
        return self._mx.zeros((1, 1))


def mlx_run(model, phonemes: str, style: np.ndarray, speed: float, seed: int = 0) -> dict[str, np.ndarray]:
    """mlx-audio's Model.__call__ up to its decoder (durations, F0, N as it computes them), then its own decoder on
    exactly those inputs: the same work as one call, with the intermediates kept."""
    import mlx.core as mx

    mx.random.seed(seed)  # the source module's noise and phase
    capture = _DecoderInputs(mx)
    decoder = model.decoder
    model.decoder = capture
    try:
        output = model(phonemes, mx.array(np.asarray(style, np.float32).reshape(1, -1)), speed, return_output=True)
    finally:
        model.decoder = decoder
    asr, f0, n, ref = capture.inputs
    audio = decoder(asr, f0, n, ref)[0]
    mx.eval(audio)
    return {"audio": np.asarray(audio.astype(mx.float32)).ravel(), "durations": np.asarray(output.pred_dur).ravel(),
            "f0": np.asarray(f0.astype(mx.float32)).ravel(), "n": np.asarray(n.astype(mx.float32)).ravel()}


def log_spectrogram(audio: np.ndarray, n_fft: int = 1024, hop: int = 256) -> np.ndarray:
    frames = 1 + max(0, len(audio) - n_fft) // hop
    window = np.hanning(n_fft).astype(np.float32)
    stack = np.stack([audio[i * hop:i * hop + n_fft] * window for i in range(frames)]) if len(audio) >= n_fft \
        else np.zeros((1, n_fft), np.float32)
    return np.log(np.abs(np.fft.rfft(stack, axis=1)) + 1e-5)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    size = min(a.size, b.size)
    a, b = a.ravel()[:size], b.ravel()[:size]
    if size < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def compare(variant: str, onnx: dict[str, np.ndarray], mlx: dict[str, np.ndarray]) -> Agreement:
    d_onnx, d_mlx = onnx["durations"].astype(int), mlx["durations"].astype(int)
    off = np.abs(d_onnx - d_mlx) if d_onnx.size == d_mlx.size else np.array([max(d_onnx.size, d_mlx.size)])
    spec_onnx, spec_mlx = log_spectrogram(onnx["audio"]), log_spectrogram(mlx["audio"])
    rows = min(len(spec_onnx), len(spec_mlx))
    rms = lambda a: float(np.sqrt(np.mean(np.square(a, dtype=np.float64))))  # noqa: E731
    return Agreement(
        variant=variant, tokens=int(d_onnx.size), frames_onnx=int(d_onnx.sum()), frames_mlx=int(d_mlx.sum()),
        durations_off=int((off > 0).sum()), durations_max_off=int(off.max(initial=0)),
        f0_correlation=_correlation(onnx["f0"], mlx["f0"]), n_correlation=_correlation(onnx["n"], mlx["n"]),
        spectrum_correlation=_correlation(spec_onnx[:rows], spec_mlx[:rows]),
        level_db=20 * np.log10(rms(mlx["audio"]) / rms(onnx["audio"])),
        samples_onnx=int(onnx["audio"].size), samples_mlx=int(mlx["audio"].size))


def agreement(engine, reference: OnnxReference, variant: str, text: str, voice_name: str = "jf_alpha",
              speed: float = 1.0) -> Agreement:
    """One variant of an MlxKokoroEngine (loaded here if needed) against onnxruntime on the same phonemes."""
    if not engine.is_loaded(variant):
        engine.load(variant)
    phonemes = engine.phonemes(text, voice_name)
    tokens = engine.tokens(phonemes)
    style = engine.voice(voice_name)[min(len(tokens), 510) - 1]
    return compare(variant, reference.run(tokens, style, speed), mlx_run(engine.model(variant), phonemes, style, speed))


def main(argv: list[str] | None = None) -> int:
    from pytest_kokoro.harness.mlx_engine import MlxKokoroEngine
    from pytest_kokoro.harness.mlx_weights import VARIANTS

    parser = argparse.ArgumentParser(prog="python -m pytest_kokoro.harness.mlx_agreement", description=__doc__.splitlines()[0])
    parser.add_argument("--text", default="Hi there.")
    parser.add_argument("--voice", default="jf_alpha")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args(argv)
    engine, reference = MlxKokoroEngine(), OnnxReference()
    for variant in args.variants.split(","):
        result = agreement(engine, reference, variant, args.text, args.voice)
        engine.unload(variant)
        print(json.dumps({**asdict(result), "length_ratio": result.length_ratio}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
