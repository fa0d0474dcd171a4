"""The MLX variants derived from the int8 ONNX model: the graph read node by node, the cache and its sha256."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytest.importorskip("mlx.core", reason="needs MLX: pip install 'pytest-kokoro[mlx]' (./scripts/bootstrap does)")
pytest.importorskip("mlx_audio", reason="needs mlx-audio: pip install 'pytest-kokoro[mlx]'")

from pytest_kokoro.harness import mlx_weights, model_files  # noqa: E402


@pytest.mark.parametrize("node,module", [
    ("/encoder/text_encoder/cnn.0/cnn.0.0/Conv_quant", "text_encoder.cnn.0.0"),
    ("/encoder/bert/encoder/albert_layer_groups.0/albert_layers.0/attention_3/query/MatMul_quant",
     "bert.encoder.albert_layer_groups.0.albert_layers.0.attention.query"),
    ("/encoder/F0.1/pool/ConvTranspose", "predictor.F0.1.pool"),
    ("/encoder/shared/LSTM_quant", "predictor.shared"),
    ("/encoder/N_proj/Conv_quant", "predictor.N_proj"),
    ("/encoder/predictor/text_encoder/lstms.0/LSTM_quant", "predictor.text_encoder.lstms.0"),
    ("/decoder/decoder/generator/resblocks.4/adain2.2/fc/Gemm_MatMul_quant", "decoder.generator.resblocks.4.adain2.2.fc"),
])
def test_node_scopes_name_the_pytorch_module(node, module):
    assert mlx_weights._module_path(node) == module


def test_lstm_gates_go_from_onnx_iofc_to_pytorch_ifgo():
    hidden = 2
    onnx_order = np.concatenate([np.full(hidden, gate) for gate in (1, 2, 3, 4)])  # i, o, f, c
    assert mlx_weights._reorder_gates(onnx_order, hidden).tolist() == [1, 1, 3, 3, 4, 4, 2, 2]  # i, f, g(=c), o


def test_curves_are_compared_token_by_token():
    """One token a frame longer must not shift every frame after it (F0 and N have 2 values per frame)."""
    from pytest_kokoro.harness.mlx_agreement import token_aligned

    rng = np.random.default_rng(0)
    reference_durations = np.array([3, 2, 4, 3])
    levels = rng.normal(size=4)
    reference = np.repeat(levels, reference_durations * 2)
    longer = np.array([3, 3, 4, 3])  # the second token one frame longer
    curve = np.repeat(levels, longer * 2)
    assert np.corrcoef(reference, token_aligned(curve, longer, reference_durations))[0, 1] > 0.999
    assert token_aligned(curve, longer, reference_durations).size == reference.size


@pytest.fixture(scope="module")
def float_set():
    return mlx_weights.float_state_dict(model_files.int8_model_path())


def test_the_graph_holds_every_parameter_but_the_unused_pooler(float_set):
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_audio.tts.models.kokoro import Model, ModelConfig

    model = Model(ModelConfig.from_dict(mlx_weights.kokoro_config()))
    wanted = dict(tree_flatten(model.parameters()))
    got = model.sanitize({name: mx.array(value) for name, value in float_set.items()})
    assert sorted(set(wanted) - set(got)) == ["bert.pooler.bias", "bert.pooler.weight"]
    assert set(got) <= set(wanted)
    assert [k for k in got if got[k].shape != wanted[k].shape] == []
    assert len(wanted) == 548


def test_weight_norm_is_restored_exactly(float_set):
    v, g = float_set["decoder.generator.conv_post.weight_v"], float_set["decoder.generator.conv_post.weight_g"]
    norm = np.sqrt((v.astype(np.float64) ** 2).sum(axis=(1, 2), keepdims=True))
    np.testing.assert_allclose(g * v / norm, v, rtol=1e-6, atol=1e-9)


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    """All four variants derived into a temporary cache (about 10 s), not the user's."""
    root = tmp_path_factory.mktemp("mlx-cache")
    original = mlx_weights.folder
    mlx_weights.folder = lambda variant: root / f"{mlx_weights.FOLDER_PREFIX}-{variant}"
    try:
        mlx_weights.derive_all()
        yield root
    finally:
        mlx_weights.folder = original


def test_each_variant_names_its_source_and_every_file_sha256(derived):
    for variant in mlx_weights.VARIANTS:
        folder = mlx_weights.folder(variant)
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["source_file"] == "kokoro-v1.0.int8.onnx"
        assert manifest["source_sha256"] == model_files.expected_int8_sha256()
        assert {n: model_files.sha256_of(folder / n) for n in manifest["files"]} == manifest["files"]
        config = json.loads((folder / "config.json").read_text())
        assert config.get("quantization") == ({"group_size": 64, "bits": mlx_weights.BITS[variant]}
                                              if variant in mlx_weights.BITS else None)


def test_quantized_variants_follow_mlx_audios_rule(derived):
    """Linear and Embedding layers whose last dimension divides by 64 (87 modules), the rest bf16."""
    import mlx.core as mx
    from mlx.utils import tree_flatten

    for variant, bits in mlx_weights.BITS.items():
        params = dict(tree_flatten(mlx_weights.load(mlx_weights.folder(variant)).parameters()))
        quantized = [name for name in params if name.endswith(".scales")]
        assert len(quantized) == 87, variant
        assert {params[name].dtype for name in params if not name.endswith((".weight", ".scales", ".biases"))} \
            == {mx.bfloat16}
        sample = quantized[0].removesuffix(".scales")
        assert params[f"{sample}.weight"].dtype == mx.uint32  # packed: 32 / bits values per element
        assert params[f"{sample}.weight"].shape[-1] * 32 // bits == params[f"{sample}.scales"].shape[-1] * 64


def test_cached_variants_are_not_derived_again(derived):
    before = {v: os.stat(mlx_weights.folder(v) / mlx_weights.WEIGHTS_FILE).st_mtime_ns for v in mlx_weights.VARIANTS}
    for variant in mlx_weights.VARIANTS:
        mlx_weights.derived_folder(variant, verify=True)
    assert before == {v: os.stat(mlx_weights.folder(v) / mlx_weights.WEIGHTS_FILE).st_mtime_ns
                      for v in mlx_weights.VARIANTS}


def test_a_corrupt_variant_is_rederived_when_verified(derived):
    weights = mlx_weights.folder("4bit") / mlx_weights.WEIGHTS_FILE
    with open(weights, "r+b") as handle:
        handle.seek(-8, os.SEEK_END)
        handle.write(b"\0" * 8)
    expected = json.loads((mlx_weights.folder("4bit") / "manifest.json").read_text())["files"][mlx_weights.WEIGHTS_FILE]
    assert mlx_weights.derived_folder("4bit") == mlx_weights.folder("4bit")
    assert model_files.sha256_of(weights) != expected, "without --verify the manifest is trusted (quick)"
    mlx_weights.derived_folder("4bit", verify=True)
    assert model_files.sha256_of(weights) == expected


def test_an_unknown_variant_is_a_typed_error():
    with pytest.raises(mlx_weights.MlxWeightsError, match="bf16, 8bit, 6bit, 4bit"):
        mlx_weights.derived_folder("int8")
