"""How closely the mlx engine agrees with the onnxruntime engine on the same phonemes, voice and speed.

Waveforms are not compared: mlx-audio's source module draws random noise and phase, so samples never line up.
What is compared, stage by stage:
- durations: frames per token (the ONNX graph's ``/encoder/Clip_output_0`` against mlx-audio's ``pred_dur``);
- F0 and N: the predicted pitch and energy curves (``/encoder/Squeeze_output_0`` and ``Squeeze_1``, exposed as extra
  graph outputs, against the inputs mlx-audio's Model hands its decoder), laid onto the same frames token by token
  (a token one frame longer would otherwise shift every frame after it);
- the spectrum: correlation of the log-magnitude spectrograms, and the level (RMS, dB) of MLX against ONNX.

``python -m pytest_kokoro.harness.mlx_agreement --text "Hi there."`` prints the numbers for every variant
(tests/harness/test_mlx_engine.py holds the thresholds).

The level: MLX audio is 3.5 dB quieter than onnxruntime's, and that is the int8 ONNX model's doing. Given the very
same spectrum (the graph's ``conv_post`` output, exposed as an output), mlx-audio's iSTFT and a plain numpy
torch.istft (overlap-add divided by the sum of squared windows) agree to 1e-7 dB, and both are 3.52 dB below the
graph's own audio: 20 log10(1.5), sample by sample. 1.5 is the sum of squared Hann windows at hop n_fft/4, which
the graph's overlap-add is not divided by (its ``...stft.window_sum`` initializer holds only 20 values: a
normalization traced for one frame). mlx-audio divides, like torch.istft and Kokoro's PyTorch model.
``ONNX_ISTFT_GAIN_DB`` is that factor; what is left of ``level_db`` after it is the two
decoders' own difference (dynamic int8 activations against float).
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
ONNX_POST = "/decoder/decoder/generator/conv_post/Conv_output_0"  # the spectrum and phase the iSTFT turns into audio
ONNX_ISTFT_GAIN_DB = 20 * np.log10(1.5)  # the graph's iSTFT skips dividing by the sum of squared windows (1.5)


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
        for name in (ONNX_DURATIONS, ONNX_F0, ONNX_N, ONNX_POST):
            model.graph.output.append(onnx.ValueInfoProto(name=name))
        self.session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])

    def run(self, tokens: list[int], style: np.ndarray, speed: float) -> dict[str, np.ndarray]:
        audio, durations, f0, n, post = self.session.run(None, {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": np.asarray(style, dtype=np.float32).reshape(1, -1),
            "speed": np.array([speed], dtype=np.float32)})
        return {"audio": np.asarray(audio, np.float32).ravel(), "durations": np.asarray(durations).ravel(),
                "f0": np.asarray(f0, np.float32).ravel(), "n": np.asarray(n, np.float32).ravel(),
                "post": np.asarray(post, np.float32)}


def istft_levels(post: np.ndarray, audio: np.ndarray, n_fft: int = 20, hop: int = 5) -> dict[str, float]:
    """The ONNX graph's audio against two iSTFTs of its own ``conv_post`` output (spectrum exp(x[:11]), phase
    sin(x[11:]), as both decoders do): mlx-audio's MLXSTFT.inverse and torch.istft's rule in numpy. dB and
    correlation of each against the graph's audio, and of mlx-audio's against numpy's."""
    import mlx.core as mx
    from mlx_audio.tts.models.kokoro.istftnet import MLXSTFT

    bins = n_fft // 2 + 1
    spectrum, phase = np.exp(post[0, :bins].astype(np.float64)), np.sin(post[0, bins:].astype(np.float64))
    ours = np.asarray(MLXSTFT(filter_length=n_fft, hop_length=hop, win_length=n_fft).inverse(
        mx.array(spectrum[None].astype(np.float32)), mx.array(phase[None].astype(np.float32)))).ravel()
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann, as torch.hann_window
    frames = np.fft.irfft(spectrum * np.exp(1j * phase), n=n_fft, axis=0)
    length = n_fft + hop * (frames.shape[1] - 1)
    summed, weights = np.zeros(length), np.zeros(length)
    for t in range(frames.shape[1]):
        summed[t * hop:t * hop + n_fft] += frames[:, t] * window
        weights[t * hop:t * hop + n_fft] += window ** 2
    torch_rule = (summed / np.where(weights > 1e-11, weights, 1.0))[n_fft // 2:length - n_fft // 2]

    def db(a, b):
        size = min(a.size, b.size)
        return float(20 * np.log10(np.sqrt(np.mean(a[:size] ** 2)) / np.sqrt(np.mean(b[:size] ** 2))))

    return {"mlx_vs_onnx_db": db(ours, audio), "numpy_vs_onnx_db": db(torch_rule, audio),
            "mlx_vs_numpy_db": db(ours, torch_rule), "mlx_vs_onnx_correlation": _correlation(ours, audio),
            "mlx_vs_numpy_correlation": _correlation(ours, torch_rule)}


class _DecoderInputs:
    """Stands in for the model's decoder for one call, keeping what mlx-audio's Model.__call__ hands it."""

    def __init__(self, mx):
        self._mx = mx
        self.inputs = None

    def __call__(self, asr, f0, n, style):
        self.inputs = (asr, f0, n, style)
        return self._mx.zeros((1, 1))


def mlx_run(model, phonemes: str, style: np.ndarray, speed: float, seed: int = 0,
            decode: bool = True) -> dict[str, np.ndarray]:
    """mlx-audio's Model.__call__ up to its decoder (durations, F0, N as it computes them), then its own decoder on
    exactly those inputs: the same work as one call, with the intermediates kept. ``decode=False`` stops before
    the decoder (the costly part on a CPU: about 95% of a call) and returns no audio."""
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
    result = {"durations": np.asarray(output.pred_dur).ravel(), "f0": np.asarray(f0.astype(mx.float32)).ravel(),
              "n": np.asarray(n.astype(mx.float32)).ravel()}
    if decode:
        audio = decoder(asr, f0, n, ref)[0]
        mx.eval(audio)
        result["audio"] = np.asarray(audio.astype(mx.float32)).ravel()
    return result


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
    """The agreement of two runs on the same tokens; without ``audio`` in ``mlx`` (a predictor-only run) the
    spectrum, level and sample counts are NaN and 0."""
    d_onnx, d_mlx = onnx["durations"].astype(int), mlx["durations"].astype(int)
    off = np.abs(d_onnx - d_mlx) if d_onnx.size == d_mlx.size else np.array([max(d_onnx.size, d_mlx.size)])
    spectrum, level, samples = float("nan"), float("nan"), 0
    if "audio" in mlx:
        spec_onnx, spec_mlx = log_spectrogram(onnx["audio"]), log_spectrogram(mlx["audio"])
        rows = min(len(spec_onnx), len(spec_mlx))
        spectrum = _correlation(spec_onnx[:rows], spec_mlx[:rows])
        level = float(20 * np.log10(_rms(mlx["audio"]) / _rms(onnx["audio"])))
        samples = int(mlx["audio"].size)
    return Agreement(
        variant=variant, tokens=int(d_onnx.size), frames_onnx=int(d_onnx.sum()), frames_mlx=int(d_mlx.sum()),
        durations_off=int((off > 0).sum()), durations_max_off=int(off.max(initial=0)),
        f0_correlation=_correlation(onnx["f0"], _aligned(mlx["f0"], d_mlx, d_onnx)),
        n_correlation=_correlation(onnx["n"], _aligned(mlx["n"], d_mlx, d_onnx)),
        spectrum_correlation=spectrum, level_db=level, samples_onnx=int(onnx["audio"].size), samples_mlx=samples)


def token_aligned(curve: np.ndarray, durations: np.ndarray, target: np.ndarray) -> np.ndarray:
    """A per-frame curve (F0, N) of one run laid onto another run's frames, token by token: each token's stretch
    resampled (linearly) to the other run's frame count, so a token one frame longer does not shift every frame
    after it. F0 and N have ``len(curve) / sum(durations)`` values per frame (2 in Kokoro)."""
    per_frame = len(curve) // max(1, int(durations.sum()))
    pieces, start = [], 0
    for have, want in zip(durations.astype(int) * per_frame, target.astype(int) * per_frame):
        piece = curve[start:start + have]
        start += have
        if want == 0:
            continue
        if have == 0:
            pieces.append(np.full(want, curve[min(start, len(curve) - 1)]))
        else:
            pieces.append(np.interp(np.linspace(0, have - 1, want), np.arange(have), piece))
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


def _aligned(curve: np.ndarray, durations: np.ndarray, target: np.ndarray) -> np.ndarray:
    return token_aligned(curve, durations, target) if durations.size == target.size else curve


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


def agreement(engine, reference: OnnxReference, variant: str, text: str, voice_name: str = "jf_alpha",
              speed: float = 1.0, decode: bool = True) -> Agreement:
    """One variant of an MlxKokoroEngine (loaded here if needed) against onnxruntime on the same phonemes;
    ``decode=False`` compares durations, F0 and N only (seconds instead of a minute on a CPU)."""
    if not engine.is_loaded(variant):
        engine.load(variant)
    phonemes = engine.phonemes(text, voice_name)
    tokens = engine.tokens(phonemes)
    style = engine.voice(voice_name)[min(len(tokens), 510) - 1]
    return compare(variant, reference.run(tokens, style, speed),
                   mlx_run(engine.model(variant), phonemes, style, speed, decode=decode))


def main(argv: list[str] | None = None) -> int:
    from pytest_kokoro.harness.mlx_engine import MlxKokoroEngine
    from pytest_kokoro.harness.mlx_weights import VARIANTS

    parser = argparse.ArgumentParser(prog="python -m pytest_kokoro.harness.mlx_agreement", description=__doc__.splitlines()[0])
    parser.add_argument("--text", default="Hi there.")
    parser.add_argument("--voice", default="jf_alpha")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--no-decode", action="store_true", help="durations, F0 and N only (the predictor)")
    args = parser.parse_args(argv)
    engine, reference = MlxKokoroEngine(), OnnxReference()
    for variant in args.variants.split(","):
        result = agreement(engine, reference, variant, args.text, args.voice, decode=not args.no_decode)
        engine.unload(variant)
        print(json.dumps({**asdict(result), "length_ratio": result.length_ratio if result.samples_mlx else None}),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
