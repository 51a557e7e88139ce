"""The warm path: a cached ONNX engine loads without torch or transformers and encodes exactly as before.

Its tokenizer and preprocessing are read from the model's files (clipaware.models.model_files); these tests
hold them to transformers' own tokenizer and image processor on the tiny models and the shapes model, and
the warm model's vectors to those of the load that exported the engine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from clipaware.models.clip import ClipModel, ModelInputs
from clipaware.models.model_files import JsonTokenizer, image_processor_settings
from clipaware.models.preprocess import FastPreprocessor

SHAPES = Path(__file__).resolve().parents[2] / "src" / "clipaware" / "world" / "shapes_clip"
TEXTS = [
    "a photo of a cat",
    "Two DOGS on the beach at sunset, and a gray star!",
    "",
    "zebra quokka unknownword",
    " ".join(["red circle"] * 60),  # longer than either model's text length: truncated, end token kept
]


def _folders(tiny_clip_dir: Path, tiny_siglip_dir: Path) -> dict[str, Path]:
    folders = {"clip": tiny_clip_dir, "siglip": tiny_siglip_dir}
    if SHAPES.is_dir():
        folders["shapes"] = SHAPES
    return folders


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    odd = [
        Image.new("RGB", (3, 500), (200, 10, 10)),
        Image.fromarray(data.camera()).convert("RGB").crop((0, 0, 701, 5)),
    ]
    return [Image.fromarray(a) for a in (data.astronaut(), data.coffee(), data.chelsea())] + odd


def test_tokenizer_json_equals_the_transformers_tokenizer(tiny_clip_dir: Path, tiny_siglip_dir: Path) -> None:
    from transformers import AutoTokenizer

    for label, folder in _folders(tiny_clip_dir, tiny_siglip_dir).items():
        ours, theirs = JsonTokenizer.from_folder(folder), AutoTokenizer.from_pretrained(folder)
        assert ours is not None, label
        assert ours.unk_token_id == theirs.unk_token_id and ours.pad_token_id == theirs.pad_token_id
        for padding in (True, "max_length"):
            kwargs = {"padding": padding, "truncation": True, "max_length": 64, "return_tensors": "np"}
            got, want = ours(TEXTS, **kwargs), theirs(TEXTS, **kwargs)
            for key in ("input_ids", "attention_mask"):
                np.testing.assert_array_equal(got[key], want[key], err_msg=f"{label} {padding} {key}")
        for text in TEXTS:
            assert ours.tokenize(text) == theirs.tokenize(text)
            assert (
                ours(text, add_special_tokens=False)["input_ids"] == theirs(text, add_special_tokens=False)["input_ids"]
            )


def test_preprocessor_config_equals_the_transformers_processor(
    tiny_clip_dir: Path, tiny_siglip_dir: Path, photos: list[Image.Image], tmp_path: Path
) -> None:
    from transformers import AutoImageProcessor

    # the openai CLIP hub file: bare numbers for sizes, no rescale keys, the old feature-extractor name
    old_style = tmp_path / "old-style"
    old_style.mkdir()
    (old_style / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "crop_size": 224,
                "do_center_crop": True,
                "do_normalize": True,
                "do_resize": True,
                "feature_extractor_type": "CLIPFeatureExtractor",
                "image_mean": [0.48145466, 0.4578275, 0.40821073],
                "image_std": [0.26862954, 0.26130258, 0.27577711],
                "resample": 3,
                "size": 224,
            }
        )
    )
    folders = {**_folders(tiny_clip_dir, tiny_siglip_dir), "old-style": old_style}
    for label, folder in folders.items():
        settings = image_processor_settings(folder)
        fast = FastPreprocessor.from_processor(settings)
        assert fast is not None, label
        want = AutoImageProcessor.from_pretrained(folder)(images=photos, return_tensors="np")["pixel_values"]
        got = fast.batch(photos)
        assert got.shape == want.shape, label
        np.testing.assert_allclose(got, want, atol=1e-6, rtol=0, err_msg=label)


def test_files_we_do_not_reproduce_fall_back(tmp_path: Path, tiny_clip_dir: Path) -> None:
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "SiglipTokenizer"}))
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({"image_processor_type": "DetrImageProcessor"}))
    assert JsonTokenizer.from_folder(tmp_path) is None
    assert image_processor_settings(tmp_path) is None
    assert ModelInputs.from_files(tmp_path, "clip", 77) is None
    assert ModelInputs.from_files(tiny_clip_dir, "clip", 77) is not None


@pytest.mark.parametrize("family", ["clip", "siglip"])
def test_a_cached_engine_loads_without_transformers_and_encodes_the_same(
    family: str, tiny_clip_dir: Path, tiny_siglip_dir: Path, photos: list[Image.Image], tmp_path: Path
) -> None:
    folder = {"clip": tiny_clip_dir, "siglip": tiny_siglip_dir}[family]
    engine = {"runtime": "onnx", "precision": "fp32", "onnx_cache": tmp_path / "onnx"}
    first = ClipModel.load(str(folder), **engine)  # exports the engine, through transformers
    warm = ClipModel.load(str(folder), **engine)
    assert first.config is not None and first.runtime.runtime == "onnx"
    assert isinstance(warm.tokenizer, JsonTokenizer) and warm.config is None and warm._model is None
    assert warm.embedding_dim == first.embedding_dim and warm.logit_scale == first.logit_scale
    np.testing.assert_allclose(warm.encode_texts(TEXTS), first.encode_texts(TEXTS), atol=1e-6)
    np.testing.assert_allclose(warm.embed_pil(photos), first.embed_pil(photos), atol=1e-6)
    assert warm.knows("cat") and not warm.knows("quokka")


def test_a_text_search_on_a_cached_engine_imports_neither_torch_nor_transformers(
    tiny_clip_dir: Path, photo_folder: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "CLIPAWARE_RUNTIME": "onnx",
        "CLIPAWARE_PRECISION": "fp32",
        "CLIPAWARE_ONNX_CACHE": str(tmp_path / "onnx"),
        "HOME": str(tmp_path),
    }
    cli = [sys.executable, "-c", "import sys; from clipaware.cli import main; sys.argv[0] = 'clipaware'; main()"]
    done = subprocess.run(
        [*cli, "index", str(photo_folder), "--model", str(tiny_clip_dir), "--db", str(tmp_path / "lib.db")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    probe = (
        "import sys, json\n"
        "from clipaware.cli import main\n"
        "sys.argv = ['clipaware', 'search', 'a red cat', '--json', '--db', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "heavy = sorted(m for m in ('torch', 'transformers') if m in sys.modules)\n"
        "print('HEAVY=' + json.dumps(heavy), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "lib.db")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 4
    assert "HEAVY=[]" in done.stderr, done.stderr


def test_the_cache_keeps_only_the_towers_the_engine_runs(
    tiny_clip_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An fp32 tower that int8 replaced is deleted; the next load still finds the engine cached."""
    from clipaware.models import engines, onnx

    monkeypatch.setattr(engines, "MIN_COSINE", -1.0)  # let int8 pass on any CPU: this pins the bookkeeping
    engine = {"runtime": "onnx", "precision": "int8", "onnx_cache": tmp_path}
    first = ClipModel.load(str(tiny_clip_dir), **engine)
    folder = onnx.cache_folder(first.name, tiny_clip_dir, tmp_path)
    assert first.engine.label == "onnx int8"
    assert {p.name for p in folder.glob("*.onnx")} == {"image-int8.onnx", "text-int8.onnx"}

    import transformers

    def no_weights(*args, **kwargs):
        raise AssertionError("a cached engine must not load PyTorch weights")

    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", no_weights)
    again = ClipModel.load(str(tiny_clip_dir), **engine)
    assert again.engine.label == "onnx int8" and again._model is None
