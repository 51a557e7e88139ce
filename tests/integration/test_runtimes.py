"""Every engine against the PyTorch fp32 reference on tiny saved models; the ONNX cache; the text cache.

Tolerances on the tiny random models (2 layers, 32 wide): ONNX fp32 and PyTorch bf16 stay at cosine
≥ 0.999 to fp32. int8 (ONNX dynamic, PyTorch dynamic) is checked at ≥ 0.99: with 16-d outputs and random
weights a tiny model quantises worse than ViT-B/32 (measured there: image 0.9998, text 0.9990), and its
towers may be refused by the 0.999 gate — which is exactly what the gate is for.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from tests.conftest import ONNX_CACHE

from clipaware import ClipModel
from clipaware.models import engines, onnx
from clipaware.models.engines import FastPathRefusedWarning, OnnxEngine, TorchEngine, min_cosine
from clipaware.models.runtime import VNNI_FLAGS, cpu_features, default_choice

VNNI = {k: v for k, v in cpu_features().items() if k in VNNI_FLAGS}
TEXTS = ["a photo of a cat.", "a red car", "two dogs on the beach at sunset", "a drawing"]


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    return [Image.fromarray(a) for a in (data.astronaut(), data.coffee(), data.chelsea(), data.rocket())]


@pytest.fixture(scope="module")
def reference(tiny_clip_dir: Path) -> ClipModel:
    return ClipModel.load(tiny_clip_dir, runtime="torch", precision="fp32")


def _load(folder: Path, runtime: str, precision: str, cache: Path = ONNX_CACHE) -> ClipModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FastPathRefusedWarning)
        return ClipModel.load(folder, runtime=runtime, precision=precision, onnx_cache=cache)


def _rowwise(a: np.ndarray, b: np.ndarray) -> float:
    return float((a * b).sum(axis=1).min())


@pytest.mark.parametrize("fixture", ["tiny_clip_dir", "tiny_siglip_dir"])
def test_onnx_fp32_matches_torch(fixture: str, request: pytest.FixtureRequest, photos) -> None:
    folder = request.getfixturevalue(fixture)
    ref = ClipModel.load(folder, runtime="torch")
    fast = _load(folder, "onnx", "fp32")
    assert fast.engine.label == "onnx fp32" and fast.runtime.runtime == "onnx"
    assert _rowwise(fast.encode_images(photos), ref.encode_images(photos)) >= 0.999
    assert _rowwise(fast.encode_texts(TEXTS), ref.encode_texts(TEXTS)) >= 0.999
    assert fast.logit_scale == pytest.approx(ref.logit_scale) and fast.logit_bias == pytest.approx(ref.logit_bias)
    # batch and text length are dynamic in the export: other sizes than the export's example work
    np.testing.assert_allclose(fast.encode_images(photos[:1]), fast.encode_images(photos)[:1], atol=1e-5)


def test_the_gate_decides_per_tower_which_int8_tower_is_used(tiny_clip_dir: Path) -> None:
    """Asked for int8 on any CPU, each tower runs int8 only where it passed the 0.999 check, else fp32."""
    fast = _load(tiny_clip_dir, "onnx", "int8")
    checks = json.loads((onnx.cache_folder(fast.name, tiny_clip_dir, ONNX_CACHE) / "checks.json").read_text())
    for tower in ("image", "text"):
        passed = checks["onnx int8"][f"{tower}_cosine"] >= engines.MIN_COSINE
        used = fast.engine.precision if tower == "image" else fast.engine.text_precision
        assert used == ("int8" if passed else "fp32")


def test_onnx_int8_is_close_where_the_product_would_pick_it(tiny_clip_dir: Path, reference: ClipModel, photos) -> None:
    """Only where the product picks int8 (VNNI): there u8×s8 products cannot saturate.

    Without VNNI, ONNX Runtime's u8×s8 kernels (AVX2 ``vpmaddubsw``) add pairs of products into 16 bits and
    saturate, so int8 is not close (the tiny text tower measured 0.966 on an AVX2-only EPYC). The product never
    picks int8 there (``default_choice``), and the gate refuses it if asked (the test above).
    """
    if default_choice().precision != "int8":
        pytest.skip(f"no VNNI on this CPU: the product runs {default_choice().label}, never int8 (u8×s8 saturates)")
    fast = _load(tiny_clip_dir, "onnx", "int8")
    folder = onnx.cache_folder(fast.name, tiny_clip_dir, ONNX_CACHE)
    int8 = OnnxEngine(onnx.tower_file(folder, "image", "int8"), onnx.tower_file(folder, "text", "int8"), "int8")
    pixels = reference.preprocess_batch(photos)
    tokens = reference.tokenize(TEXTS)
    image_cos = min_cosine(int8.image(pixels), reference.engine.image(pixels))
    text_cos = min_cosine(int8.text(tokens), reference.engine.text(tokens))
    assert image_cos >= 0.99 and text_cos >= 0.99
    assert image_cos < 0.999999  # really quantised: not the fp32 graph under another name


@pytest.mark.parametrize("bias", [True, False])
def test_the_patch_projection_equals_the_patchifying_convolution(bias: bool) -> None:
    import torch

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 8, kernel_size=4, stride=4, bias=bias)
    assert onnx.is_patchify_conv(conv)
    assert not onnx.is_patchify_conv(torch.nn.Conv2d(3, 8, kernel_size=4, stride=2))
    pixels = torch.randn(2, 3, 18, 17)  # ragged: the convolution drops the last rows and columns
    with torch.no_grad():
        np.testing.assert_allclose(onnx.patch_projection(conv)(pixels).numpy(), conv(pixels).numpy(), atol=1e-5)


def test_the_clip_export_computes_the_last_layer_for_the_class_token_only(tiny_clip_dir: Path, photos) -> None:
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(tiny_clip_dir).eval()
    pixels = torch.from_numpy(ClipModel.load(tiny_clip_dir, runtime="torch").preprocess_batch(photos))
    layers = model.vision_model.encoder.layers
    original = layers[-1]
    with torch.no_grad():
        full = model.get_image_features(pixel_values=pixels).pooler_output
        with onnx._last_layer_cls_only(model) as swapped:
            assert swapped and layers[-1] is not original
            short = model.get_image_features(pixel_values=pixels).pooler_output
        assert layers[-1] is original
        restored = model.get_image_features(pixel_values=pixels).pooler_output
    np.testing.assert_allclose(short.numpy(), full.numpy(), atol=1e-5)
    np.testing.assert_array_equal(restored.numpy(), full.numpy())


def test_siglip_keeps_every_token_of_its_last_layer(tiny_siglip_dir: Path) -> None:
    from transformers import AutoModel

    model = AutoModel.from_pretrained(tiny_siglip_dir).eval()
    with onnx._last_layer_cls_only(model) as swapped:
        assert not swapped  # its attention-pooling head reads all tokens


def test_the_int8_image_tower_quantises_the_patch_embedding(tiny_clip_dir: Path) -> None:
    import onnx as onnx_lib

    fast = _load(tiny_clip_dir, "onnx", "int8")
    folder = onnx.cache_folder(fast.name, tiny_clip_dir, ONNX_CACHE)
    ops = {n.op_type for n in onnx_lib.load(str(onnx.tower_file(folder, "image", "int8"))).graph.node}
    assert "Conv" not in ops and "ConvInteger" not in ops
    assert ops & {"DynamicQuantizeLinear", "MatMulInteger", "DynamicQuantizeMatMul"}


@pytest.mark.parametrize(("precision", "tolerance"), [("bf16", 0.999), ("int8", 0.99)])
def test_torch_low_precision_engines(precision: str, tolerance: float, tiny_clip_dir: Path, photos) -> None:
    ref = ClipModel.load(tiny_clip_dir, runtime="torch")
    engine = TorchEngine(copy.deepcopy(ref.model), precision)
    pixels, tokens = ref.preprocess_batch(photos), ref.tokenize(TEXTS)
    assert min_cosine(engine.image(pixels), ref.engine.image(pixels)) >= tolerance
    assert min_cosine(engine.text(tokens), ref.engine.text(tokens)) >= tolerance
    loaded = _load(tiny_clip_dir, "torch", precision)
    assert loaded.engine.label in (f"torch {precision}", "torch fp32")  # fp32 only when the gate refused it


def test_a_fast_path_far_from_fp32_is_refused_with_a_warning(
    tiny_clip_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, photos
) -> None:
    monkeypatch.setattr(engines, "MIN_COSINE", 1.5)  # nothing can pass
    with pytest.warns(FastPathRefusedWarning, match="onnx fp32 image tower refused"):
        model = ClipModel.load(tiny_clip_dir, runtime="onnx", precision="fp32", onnx_cache=tmp_path)
    assert model.engine.label == "torch fp32" and model.runtime.runtime == "torch"
    with pytest.warns(FastPathRefusedWarning):  # remembered: refused again without re-checking
        again = ClipModel.load(tiny_clip_dir, runtime="onnx", precision="fp32", onnx_cache=tmp_path)
    assert again.engine.label == "torch fp32"


def test_the_export_is_cached_and_reused_without_torch_weights(
    tiny_clip_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference: ClipModel, photos
) -> None:
    first = _load(tiny_clip_dir, "onnx", "fp32", tmp_path)
    folder = onnx.cache_folder(first.name, tiny_clip_dir, tmp_path)
    assert folder.parent.parent == tmp_path and onnx.versions_key() in folder.name
    assert {p.name for p in folder.glob("*.onnx")} == {"image-fp32.onnx", "text-fp32.onnx"}

    import transformers

    def no_weights(*args, **kwargs):
        raise AssertionError("the cached ONNX engine must not load PyTorch weights")

    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", no_weights)
    second = _load(tiny_clip_dir, "onnx", "fp32", tmp_path)
    assert second.engine.label == "onnx fp32" and second._model is None
    np.testing.assert_allclose(second.encode_images(photos), first.encode_images(photos), atol=1e-6)
    assert second.logit_scale == pytest.approx(reference.logit_scale)


def test_cache_key_is_the_revision_or_the_weights_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    snapshot = tmp_path / "models--org--m" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    assert onnx.weights_key(snapshot, cache) == "a" * 40
    local = tmp_path / "local"
    local.mkdir()
    (local / "config.json").write_text("{}")
    (local / "model.safetensors").write_bytes(b"weights one")
    first = onnx.weights_key(local, cache)
    assert onnx.weights_key(local, cache) == first
    (local / "model.safetensors").write_bytes(b"weights two")
    assert onnx.weights_key(local, cache) != first


def test_text_embeddings_are_cached_lru(tiny_clip_dir: Path, reference: ClipModel) -> None:
    model = ClipModel.load(tiny_clip_dir, runtime="torch")
    calls: list[int] = []
    text = model.engine.text
    model.engine.text = lambda inputs: calls.append(len(inputs["input_ids"])) or text(inputs)  # type: ignore[method-assign]
    first = model.encode_texts([*TEXTS, TEXTS[0]])
    assert calls == [4]  # one batch, the repeated text embedded once
    again = model.encode_texts([TEXTS[2], TEXTS[0]])
    assert calls == [4] and model.text_cache.hits >= 2
    np.testing.assert_allclose(again, first[[2, 0]])
    np.testing.assert_allclose(first[:4], reference.encode_texts(TEXTS), atol=1e-5)
    model.text_cache.capacity = 2
    model.encode_texts(["a", "b", "c"])
    assert len(model.text_cache) == 2


def test_pipelined_encoding_equals_one_image_at_a_time(reference: ClipModel, tmp_path: Path, photos) -> None:
    paths = []
    for i, photo in enumerate(photos * 2):
        paths.append(tmp_path / f"{i}.jpg")
        photo.save(paths[-1], quality=90)
    serial = np.concatenate([reference.encode_images([p], batch_size=1) for p in paths])
    np.testing.assert_allclose(reference.encode_images(paths, batch_size=3), serial, atol=1e-5)


@pytest.mark.skipif(not any(VNNI.values()), reason="no VNNI on this CPU")
def test_default_here_is_onnx_int8(tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLIPAWARE_RUNTIME")
    monkeypatch.delenv("CLIPAWARE_PRECISION")
    model = _load(tiny_clip_dir, None, None)  # type: ignore[arg-type]
    assert model.runtime.runtime == "onnx" and model.engine.label.startswith("onnx")
