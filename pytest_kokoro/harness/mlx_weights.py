"""MLX weights for the mlx engine: the four variants (bf16, 8bit, 6bit, 4bit) derived from the installed int8 ONNX.

Where the official mlx-community folders are absent (every Linux machine, any Mac without them), the four variants
are derived here from the int8 Kokoro-82M ONNX export the host engine uses, and nothing is downloaded:

1. One float set, with Kokoro's PyTorch parameter names, read node by node from the ONNX graph (onnxruntime
   ``quantize_dynamic`` layout; the node names keep the PyTorch module paths):
   - MatMulInteger (Linear): int8 ``(in, out)``, one scale and zero point per output column: transposed;
   - ConvInteger (Conv1d with weight norm folded in): uint8, one scale and zero point per tensor; weight_v = W and
     weight_g = ||W|| per output channel restore the weight exactly (w = g v / ||v||);
   - DynamicQuantizeLSTM: int8 ``(directions, in, 4 hidden)``, one scale per direction, gates in ONNX's order
     i, o, f, c (PyTorch's is i, f, g, o), and B = [Wb, Rb] per direction;
   - Gather + DequantizeLinear (Embedding): int8, one scale; ConvTranspose, conv_post, l_linear: float32.
   ``bert.pooler`` is the one parameter the graph does not hold: Kokoro never calls it, it is set to zeros.
2. mlx-audio's Kokoro ``Model`` loads that set through its own ``sanitize`` (strict: every name and shape must fit).
3. bf16: every parameter cast to bfloat16 (what mlx-audio's ``convert --dtype bfloat16`` does). 8/6/4-bit: the bf16
   model quantized with mlx-audio's rule (``convert``: Linear and Embedding layers whose last dimension divides by 64,
   group size 64, affine), ``quantization`` written into config.json so mlx-audio's loader rebuilds it.

Each variant is a folder like mlx-community's (config.json, kokoro-v1_0.safetensors) in the cache, with a
``manifest.json`` naming the source file and its sha256 and every file's sha256; it is re-derived when anything
differs. ``python -m pytest_kokoro.harness.mlx_weights [--verify]`` derives them (scripts/bootstrap does).
Derived weights are never official ones: every result names its ``weights_source``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np

from pytest_kokoro.harness import model_files
from pytest_kokoro.harness.model_files import ModelFileError, sha256_of

VARIANTS = ("bf16", "8bit", "6bit", "4bit")
BITS = {"8bit": 8, "6bit": 6, "4bit": 4}
GROUP_SIZE = 64
FORMAT = 1  # bump when the derivation changes
FOLDER_PREFIX = "mlx-kokoro-derived"
WEIGHTS_FILE = "kokoro-v1_0.safetensors"
MLX_INSTALL_HINT = "pip install 'pytest-kokoro[mlx]' (./scripts/bootstrap installs it into .venv)"


class MlxWeightsError(Exception):
    """The MLX weights cannot be derived or found; the message says why and what to do."""


# --- 1. the float set, from the ONNX graph ----------------------------------------------------------------------

def _torch_name(onnx_name: str) -> str:
    """An initializer's PyTorch name: the export wraps the model as encoder.* and decoder.decoder.*."""
    if onnx_name.startswith("decoder.decoder."):
        return "decoder." + onnx_name[len("decoder.decoder."):]
    if onnx_name.startswith("encoder."):
        return onnx_name[len("encoder."):]
    return onnx_name


def _module_path(node_name: str) -> str:
    """A node's PyTorch module path from its scope: '/encoder/text_encoder/cnn.0/cnn.0.0/Conv_quant' ->
    'text_encoder.cnn.0.0'. Scopes repeat a parent's name ('cnn.0/cnn.0.0'), count re-uses of a shared module
    ('attention_3'), and the export dropped 'predictor' before F0, N, F0_proj, N_proj and shared ('/encoder/F0.1/pool')."""
    parts = [re.sub(r"_\d+$", "", part) for part in node_name.strip("/").split("/")[:-1]]
    if parts[:2] == ["decoder", "decoder"]:
        parts = parts[1:]
    elif parts[:1] == ["encoder"]:
        parts = parts[1:]
        if parts and re.fullmatch(r"(F0|N)\.\d+|F0_proj|N_proj|shared", parts[0]):
            parts = ["predictor", *parts]
    collapsed: list[str] = []
    for part in parts:
        if collapsed and part.startswith(collapsed[-1] + "."):
            collapsed[-1] = part
        else:
            collapsed.append(part)
    return ".".join(collapsed)


def _reorder_gates(w: np.ndarray, hidden: int) -> np.ndarray:
    """ONNX LSTM gates i, o, f, c along axis 0 -> PyTorch's i, f, g(=c), o."""
    i, o, f, c = (w[k * hidden:(k + 1) * hidden] for k in range(4))
    return np.concatenate([i, f, c, o], axis=0)


def float_state_dict(onnx_path: Path) -> dict[str, np.ndarray]:
    """Kokoro's float32 parameters, PyTorch names and layout, dequantized from the int8 ONNX export."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    inits = {init.name: init for init in graph.initializer}
    cache: dict[str, np.ndarray] = {}

    def array(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = numpy_helper.to_array(inits[name])
        return cache[name]

    def dequantized(weight: str, zero_point: str | None = None, scale: str | None = None) -> np.ndarray:
        base = weight[: -len("_quantized")] if weight.endswith("_quantized") else weight
        q = array(weight).astype(np.float32)
        zp = array(zero_point or base + "_zero_point").astype(np.float32)
        return (q - zp) * array(scale or base + "_scale").astype(np.float32)

    state: dict[str, np.ndarray] = {}

    def put(name: str, value: np.ndarray) -> None:
        if name in state and not np.array_equal(state[name], value):
            raise MlxWeightsError(f"{onnx_path}: two different tensors for {name}; the ONNX layout is not the one "
                                  "this derivation knows (kokoro-v1.0.int8.onnx)")
        state[name] = np.ascontiguousarray(value, dtype=np.float32)

    def put_conv(module: str, weight: np.ndarray) -> None:
        # weight norm folded in: v = W, g = ||W|| over every axis but the first (PyTorch's dim=0) is exact.
        put(f"{module}.weight_v", weight)
        put(f"{module}.weight_g", np.sqrt((weight.astype(np.float64) ** 2).sum(axis=(1, 2), keepdims=True)))

    for node in graph.node:
        module = _module_path(node.name)
        if node.op_type == "MatMulInteger" and node.input[1] in inits:
            put(f"{module}.weight", dequantized(node.input[1], zero_point=node.input[3]).T)
        elif node.op_type == "ConvInteger" and node.input[1] in inits:
            weight = dequantized(node.input[1], zero_point=node.input[3])
            if module.endswith(("F0_proj", "N_proj")) or "noise_convs" in module:
                put(f"{module}.weight", weight)
            else:
                put_conv(module, weight)
        elif node.op_type in ("ConvTranspose", "Conv") and node.input[1] in inits and "istft" not in module:
            put_conv(module, array(node.input[1]))
        elif node.op_type == "MatMul" and node.input[1] in inits:
            put(f"{module}.weight", array(node.input[1]).T)
        elif node.op_type == "DynamicQuantizeLSTM":
            w, r, b = node.input[1], node.input[2], node.input[3]
            w_f = (array(w).astype(np.float32) - array(node.input[9]).astype(np.float32)[:, None, None]) \
                * array(node.input[8])[:, None, None]
            r_f = (array(r).astype(np.float32) - array(node.input[11]).astype(np.float32)[:, None, None]) \
                * array(node.input[10])[:, None, None]
            bias = array(b)
            hidden = r_f.shape[1]
            for direction, suffix in enumerate(("l0", "l0_reverse")):
                put(f"{module}.weight_ih_{suffix}", _reorder_gates(w_f[direction].T, hidden))
                put(f"{module}.weight_hh_{suffix}", _reorder_gates(r_f[direction].T, hidden))
                put(f"{module}.bias_ih_{suffix}", _reorder_gates(bias[direction, :4 * hidden], hidden))
                put(f"{module}.bias_hh_{suffix}", _reorder_gates(bias[direction, 4 * hidden:], hidden))
        elif node.op_type == "DequantizeLinear" and node.name.endswith("Gather_quant_DequantizeLinear"):
            table = node.input[0].replace("/Gather_output_0_quantized", "").strip("/").replace("/", ".")
            name = table.replace("encoder.", "", 1) if table.startswith("encoder.") else table
            weight = f"{('encoder.' + name)}.weight_quantized"
            put(f"{name}.weight", dequantized(weight, zero_point=node.input[2], scale=node.input[1]))
    # Plain float initializers keep their PyTorch names (biases, norms, ...).
    for name in inits:
        if name.startswith(("/", "onnx::", "const_")) or name.endswith(("_quantized", "_scale", "_zero_point")):
            continue
        torch = _torch_name(name)
        if "istft" in torch or inits[name].data_type != onnx.TensorProto.FLOAT:
            continue
        state.setdefault(torch, np.asarray(array(name), dtype=np.float32))
    return state


# --- 2. the variants, through mlx-audio's own Model, sanitize and quantize rule ---------------------------------

def kokoro_config() -> dict:
    """Kokoro's standard config.json, the copy that ships inside kokoro-onnx (the int8 model's own architecture)."""
    import importlib.resources

    return json.loads(importlib.resources.files("kokoro_onnx").joinpath("config.json").read_text(encoding="utf-8"))


def quantize_predicate(path: str, module) -> bool:
    """mlx-audio's rule (mlx_audio/tts/utils.py convert, base_quant_requirements): a layer that can be quantized
    and whose last dimension divides by 64 (the Linear and Embedding layers; convolutions and LSTMs stay float)."""
    # to_quantized first: some modules hold weight = None (mlx-audio checks weight first, on Linear/Embedding only)
    return hasattr(module, "to_quantized") and module.weight.shape[-1] % GROUP_SIZE == 0


def float_model(onnx_path: Path, state: dict[str, np.ndarray] | None = None):
    """mlx-audio's Kokoro Model holding the float set, loaded through its own sanitize, every name and shape checked."""
    import mlx.core as mx
    from mlx_audio.tts.models.kokoro import Model, ModelConfig

    model = Model(ModelConfig.from_dict(kokoro_config()))
    state = dict(state if state is not None else float_state_dict(onnx_path))
    hidden = model.bert.config.hidden_size
    # Not in the graph because Kokoro never calls it (it uses the last hidden state); zeros, named so here.
    state.setdefault("bert.pooler.weight", np.zeros((hidden, hidden), np.float32))
    state.setdefault("bert.pooler.bias", np.zeros((hidden,), np.float32))
    weights = model.sanitize({name: mx.array(value) for name, value in state.items()})
    try:
        model.load_weights(list(weights.items()), strict=True)
    except ValueError as error:
        raise MlxWeightsError(f"the float set from {onnx_path} does not fit mlx-audio's Kokoro: {error}") from error
    model.eval()  # dropout off: otherwise durations change from run to run
    return model


def variant_model(model, variant: str):
    """The variant of a float model, in place: bf16 casts, Nbit casts to bf16 then quantizes with mlx-audio's rule."""
    import mlx.core as mx
    import mlx.nn as nn
    from mlx.utils import tree_flatten

    model.load_weights([(name, value.astype(mx.bfloat16)) for name, value in tree_flatten(model.parameters())])
    if variant in BITS:
        nn.quantize(model, group_size=GROUP_SIZE, bits=BITS[variant], class_predicate=quantize_predicate)
    return model


def loadable_weights(model) -> dict:
    """The model's parameters as mlx-audio's loader must find them in a folder. A quantized folder is taken as it is
    (Model.sanitize passes packed weights through), but an unquantized one goes through sanitize again, which
    transposes convolution weights it does not take for MLX layout (check_array_shape, base.py): those are stored
    in the layout that sanitize turns back into the model's."""
    from mlx.utils import tree_flatten

    weights = dict(tree_flatten(model.parameters()))
    if any(name.endswith(".scales") for name in weights):
        return weights
    stored = {}
    for name, value in weights.items():
        again = model.sanitize({name: value}).get(name)
        stored[name] = value if again is None or again.shape == value.shape else value.transpose(0, 2, 1)
    return stored


def variant_config(variant: str) -> dict:
    config = {**kokoro_config(), "model_type": "kokoro"}
    if variant in BITS:
        config["quantization"] = {"group_size": GROUP_SIZE, "bits": BITS[variant]}
    return config


# --- 3. the cache: one folder per variant, with a manifest ------------------------------------------------------

def _inputs() -> dict[str, str]:
    import importlib.metadata

    return {"format": str(FORMAT), "source_file": model_files.INT8_FILE_NAME,
            "source_sha256": model_files.expected_int8_sha256(), "mlx": importlib.metadata.version("mlx"),
            "mlx_audio": importlib.metadata.version("mlx-audio")}


def folder(variant: str) -> Path:
    return model_files.cache_dir() / f"{FOLDER_PREFIX}-{variant}"


def _current(target: Path, inputs: dict[str, str], verify: bool) -> dict | None:
    try:
        manifest = json.loads((target / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if any(manifest.get(key) != value for key, value in inputs.items()):
        return None
    if verify and not all((target / name).is_file() and sha256_of(target / name) == digest
                          for name, digest in manifest["files"].items()):
        return None
    return manifest


def derived_folder(variant: str, verify: bool = False) -> Path:
    """The derived folder of ``variant``, derived first (all four at once) when missing or stale. ``verify``
    re-hashes every file (slower)."""
    if variant not in VARIANTS:
        raise MlxWeightsError(f"variant {variant!r} is not an MLX variant; known: {', '.join(VARIANTS)}")
    inputs = _inputs()
    if _current(folder(variant), inputs, verify) is None:
        derive_all(inputs, verify)
    return folder(variant)


def manifest(variant: str) -> dict:
    return json.loads((derived_folder(variant) / "manifest.json").read_text())


def derive_all(inputs: dict[str, str] | None = None, verify: bool = False) -> list[Path]:
    """Derive every stale variant folder from the int8 ONNX model (one float set, then each variant)."""
    import mlx.core as mx
    from mlx.utils import tree_flatten

    inputs = inputs or _inputs()
    stale = [v for v in VARIANTS if _current(folder(v), inputs, verify) is None]
    try:
        source = model_files.int8_model_path()
    except ModelFileError as error:
        raise MlxWeightsError(str(error)) from error
    state = float_state_dict(source) if stale else {}
    for variant in stale:
        model = variant_model(float_model(source, state), variant)
        target = folder(variant)
        staging = target.with_name(f"{target.name}.{os.getpid()}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        mx.save_safetensors(str(staging / WEIGHTS_FILE), loadable_weights(model), metadata={"format": "mlx"})
        (staging / "config.json").write_text(json.dumps(variant_config(variant), indent=1) + "\n")
        _check_loads(staging, dict(tree_flatten(model.parameters())))
        files = {name: sha256_of(staging / name) for name in ("config.json", WEIGHTS_FILE)}
        record = {**inputs, "variant": variant, "files": files,
                  "how": "derived from the int8 ONNX model: dequantized float set, "
                         + ("cast to bfloat16" if variant == "bf16" else
                            f"cast to bfloat16, then {BITS[variant]}-bit affine quantization of the Linear and "
                            f"Embedding layers whose last dimension divides by {GROUP_SIZE} (mlx-audio's rule)")}
        (staging / "manifest.json").write_text(json.dumps(record, indent=1) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    return [folder(v) for v in VARIANTS]


def load(path: Path):
    """A variant folder through mlx-audio's own loader (sanitize, its quantization rule from config.json, eval)."""
    from mlx_audio.tts.utils import load_model

    return load_model(Path(path), model_type="kokoro")


def _check_loads(path: Path, expected: dict) -> None:
    import mlx.core as mx
    from mlx.utils import tree_flatten

    loaded = dict(tree_flatten(load(path).parameters()))
    wrong = [name for name, value in expected.items()
             if name not in loaded or loaded[name].shape != value.shape or not mx.array_equal(loaded[name], value).item()]
    if wrong or len(loaded) != len(expected):
        raise MlxWeightsError(f"{path} does not load back through mlx-audio's loader to the derived parameters "
                              f"({len(wrong)} differ, e.g. {wrong[:3]}); report this with the mlx-audio version")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_kokoro.harness.mlx_weights",
                                     description="derive the MLX Kokoro variants from the installed int8 ONNX model")
    parser.add_argument("--verify", action="store_true", help="re-hash every file, re-derive what does not match")
    args = parser.parse_args(argv)
    try:
        import mlx.core  # noqa: F401
        import mlx_audio  # noqa: F401
    except ImportError as error:
        print(f"mlx_weights: MLX is not installed ({error}): {MLX_INSTALL_HINT}", file=sys.stderr)
        return 2
    try:
        folders = {variant: str(derived_folder(variant, verify=args.verify)) for variant in VARIANTS}
    except MlxWeightsError as error:
        print(f"mlx_weights: {error}", file=sys.stderr)
        return 1
    print(json.dumps(folders, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
