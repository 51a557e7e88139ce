"""Small models that are built here, not downloaded: word-level tokenizers and tiny CLIP / SigLIP twins.

Nothing in this workplace (or a user's air-gapped machine) can fetch hub weights, yet the real loading
path must be exercised. These builders write ordinary ``save_pretrained`` folders (config, safetensors,
tokenizer, preprocessor) which :meth:`clipaware.ClipModel.load` then reads exactly as it reads a hub
snapshot. The tokenizer is word-level because the CLIP BPE files only ship with hub models.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

BOS, EOS, PAD, UNK = "<|startoftext|>", "<|endoftext|>", "[PAD]", "[UNK]"
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS)

# A small general vocabulary so that tiny models can read ordinary test captions and prompt templates.
BASIC_WORDS = """
a an the of in on at with and or to from by for is are this that photo picture image drawing painting
sketch rendering close up cropped blurry bright dark good bad large small big little origami plastic
toy sculpture tattoo embroidered black white red green blue yellow orange purple pink brown grey gray
cat cats dog dogs car cars truck bird tree beach sunset city mountain person people man woman child
house street water sky flower food table chair circle square triangle star scene it one two three
""".split()


def words_of(texts: Iterable[str]) -> list[str]:
    """The lower-cased word tokens of some texts, in first-seen order (for building a vocabulary)."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in re.findall(r"\w+|[^\w\s]", text.lower()):
            seen.setdefault(word, None)
    return list(seen)


def build_word_tokenizer(
    words: Iterable[str] = BASIC_WORDS, max_length: int = 77, aliases: dict[str, str] | None = None
):
    """A word-level tokenizer in the format ``AutoTokenizer`` loads, with CLIP's start/end tokens.

    Ids: 0 pad, 1 unknown, 2 start, 3 end, then the words. The end token is what CLIP pools on, so the
    model config must name it (``eos_token_id=3``). ``aliases`` maps other spellings onto vocabulary words
    ("gray" → "grey"): a BPE tokenizer reads both, a word-level one only what it was trained on.
    """
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}
    for word in words:
        vocab.setdefault(word.lower(), len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    spellings = [normalizers.Replace(Regex(rf"\b{a}\b"), b) for a, b in sorted((aliases or {}).items())]
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase(), *spellings])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}",
        special_tokens=[(BOS, vocab[BOS]), (EOS, vocab[EOS])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        model_max_length=max_length,
    )


def tiny_clip_config(
    vocab_size: int,
    *,
    image_size: int = 32,
    patch_size: int = 8,
    hidden: int = 32,
    layers: int = 2,
    heads: int = 2,
    projection_dim: int = 16,
    max_text_len: int = 77,
):
    """A CLIPConfig with the special-token ids of :func:`build_word_tokenizer`."""
    from transformers import CLIPConfig

    ids = {"pad_token_id": 0, "bos_token_id": 2, "eos_token_id": 3}
    return CLIPConfig(
        text_config=dict(
            vocab_size=vocab_size,
            hidden_size=hidden,
            intermediate_size=hidden * 4,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            max_position_embeddings=max_text_len,
            **ids,
        ),
        vision_config=dict(
            hidden_size=hidden,
            intermediate_size=hidden * 4,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            image_size=image_size,
            patch_size=patch_size,
        ),
        projection_dim=projection_dim,
        **ids,
    )


def save_tiny_model(
    path: str | Path,
    family: str = "clip",
    *,
    image_size: int = 32,
    seed: int = 0,
    words: Iterable[str] = BASIC_WORDS,
) -> Path:
    """Write a randomly initialised tiny CLIP, SigLIP, DINOv2, DETR or OWLv2 folder that loads like a hub snapshot."""
    import torch
    from transformers import CLIPImageProcessor, CLIPModel, SiglipConfig, SiglipImageProcessor, SiglipModel

    from clipaware.models.clip import quiet_transformers

    quiet_transformers()
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    max_len = 77 if family == "clip" else 64
    tokenizer = build_word_tokenizer(words, max_length=max_len)
    torch.manual_seed(seed)
    if family == "clip":
        model = CLIPModel(tiny_clip_config(len(tokenizer), image_size=image_size, max_text_len=max_len))
        processor = CLIPImageProcessor(
            size={"shortest_edge": image_size},
            crop_size={"height": image_size, "width": image_size},
        )
    elif family == "dinov2":  # image-only: no tokenizer
        from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

        model = Dinov2Model(
            Dinov2Config(
                hidden_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                intermediate_size=64,
                image_size=image_size,
                patch_size=8,
            )
        )
        model.eval().save_pretrained(path)
        BitImageProcessor(
            size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
        ).save_pretrained(path)
        return path
    elif family in ("detr", "owlv2"):
        return _save_tiny_detector(path, family, image_size, tokenizer)
    elif family == "siglip":
        common = dict(hidden_size=32, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2)
        config = SiglipConfig(
            text_config=dict(vocab_size=len(tokenizer), max_position_embeddings=max_len, **common),
            vision_config=dict(image_size=image_size, patch_size=8, **common),
        )
        model = SiglipModel(config)
        with torch.no_grad():  # SigLIP's init leaves scale/bias at 0; give them the paper's starting values
            model.logit_scale.fill_(float(torch.log(torch.tensor(10.0))))
            model.logit_bias.fill_(-10.0)
        processor = SiglipImageProcessor(size={"height": image_size, "width": image_size})
    else:
        raise ValueError(f"unknown family {family!r}: expected clip, siglip, dinov2, detr or owlv2")
    model.eval().save_pretrained(path)
    tokenizer.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def _save_tiny_detector(path: Path, family: str, image_size: int, tokenizer: Any) -> Path:
    """A tiny DETR (transformers' own ResNet backbone, COCO label names) or OWLv2 with our tokenizer."""
    if family == "detr":
        config: dict[str, Any] = dict(
            backbone_config={
                "model_type": "resnet",
                "depths": [1, 1, 1, 1],
                "hidden_sizes": [8, 16, 32, 64],
                "embedding_size": 8,
                "out_features": ["stage4"],
            },
            d_model=32,
            encoder_layers=1,
            decoder_layers=1,
            encoder_attention_heads=2,
            decoder_attention_heads=2,
            encoder_ffn_dim=32,
            decoder_ffn_dim=32,
            num_queries=20,
        )
        return _write_detector(path, family, config, {"shortest_edge": image_size, "longest_edge": image_size * 2})
    common = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2)
    config = dict(
        text_config=dict(vocab_size=len(tokenizer), max_position_embeddings=16, **common),
        vision_config=dict(image_size=image_size, patch_size=16, **common),
        projection_dim=32,  # OWLv2 compares image class embeddings with text embeddings of this width
    )
    return _write_detector(path, family, config, {"height": image_size, "width": image_size}, tokenizer)


def _write_detector(
    path: Path, family: str, config: dict[str, Any], processor_size: dict[str, int], tokenizer: Any = None
) -> Path:
    """Save a random-initialised DETR or OWLv2 from ``config`` with its processor (and OWLv2's tokenizer).

    The one place that knows how a detector folder must look for :mod:`clipaware.models.detect` to load
    it: DETR with transformers' own ResNet (no timm, no pretrained backbone download) and COCO label
    names; OWLv2 with our word-level tokenizer, whose special-token ids its text config must share.
    """
    from transformers import (
        DetrConfig,
        DetrForObjectDetection,
        DetrImageProcessor,
        Owlv2Config,
        Owlv2ForObjectDetection,
        Owlv2ImageProcessor,
    )

    from clipaware.models.coco import COCO_CLASSES

    if family == "detr":
        detr = DetrConfig(
            use_timm_backbone=False,
            use_pretrained_backbone=False,
            id2label=dict(enumerate(COCO_CLASSES)),
            label2id={name: i for i, name in enumerate(COCO_CLASSES)},
            **config,
        )
        DetrForObjectDetection(detr).eval().save_pretrained(path)
        DetrImageProcessor(size=processor_size).save_pretrained(path)
        return path
    tokenizer = tokenizer if tokenizer is not None else build_word_tokenizer(BASIC_WORDS)
    text = {**config["text_config"], "bos_token_id": 2, "eos_token_id": 3, "pad_token_id": 0}
    Owlv2ForObjectDetection(Owlv2Config(**{**config, "text_config": text})).eval().save_pretrained(path)
    Owlv2ImageProcessor(size=processor_size).save_pretrained(path)
    tokenizer.model_max_length = 16
    tokenizer.save_pretrained(path)
    return path


# Detectors at their published sizes, for latency twins (see random_twin); the processors' sizes are theirs.
DETECTOR_TWIN_CONFIGS: dict[str, tuple[str, dict[str, Any], dict[str, int]]] = {
    "facebook/detr-resnet-50": (
        "detr",
        # DETR's defaults are the published ones: d_model 256, 6+6 layers, 100 queries; ResNet-50 backbone
        {"backbone_config": {"model_type": "resnet", "depths": [3, 4, 6, 3], "out_features": ["stage4"]}},
        {"shortest_edge": 800, "longest_edge": 1333},
    ),
    "google/owlv2-base-patch16-ensemble": (
        "owlv2",
        {
            "text_config": dict(vocab_size=49408, hidden_size=512, num_hidden_layers=12, num_attention_heads=8),
            "vision_config": dict(
                hidden_size=768, num_hidden_layers=12, num_attention_heads=12, image_size=960, patch_size=16
            ),
            "projection_dim": 512,
        },
        {"height": 960, "width": 960},
    ),
}


# The real architectures of the registry's image-text models, written out as data (from each hub repo's
# config.json), so that a random-initialised twin has the same shapes and FLOPs as the trained model. Nothing
# here can download weights, yet speed must be measured on the real compute: a twin gives exactly that.
# Vocabulary sizes are kept (the embedding tables cost memory, not FLOPs); the twin's tokenizer is word-level.
TWIN_CONFIGS: dict[str, dict[str, object]] = {
    "openai/clip-vit-base-patch32": {
        "family": "clip",
        "projection_dim": 512,
        "text": dict(
            vocab_size=49408,
            hidden_size=512,
            intermediate_size=2048,
            num_hidden_layers=12,
            num_attention_heads=8,
            max_position_embeddings=77,
            hidden_act="quick_gelu",
        ),
        "vision": dict(
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            image_size=224,
            patch_size=32,
            hidden_act="quick_gelu",
        ),
    },
    "openai/clip-vit-large-patch14": {
        "family": "clip",
        "projection_dim": 768,
        "text": dict(
            vocab_size=49408,
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            max_position_embeddings=77,
            hidden_act="quick_gelu",
        ),
        "vision": dict(
            hidden_size=1024,
            intermediate_size=4096,
            num_hidden_layers=24,
            num_attention_heads=16,
            image_size=224,
            patch_size=14,
            hidden_act="quick_gelu",
        ),
    },
    "laion/CLIP-ViT-g-14-laion2B-s12B-b42K": {
        "family": "clip",
        "projection_dim": 1024,
        "text": dict(
            vocab_size=49408,
            hidden_size=1024,
            intermediate_size=4096,
            num_hidden_layers=24,
            num_attention_heads=16,
            max_position_embeddings=77,
            hidden_act="gelu",
        ),
        "vision": dict(
            hidden_size=1408,
            intermediate_size=6144,
            num_hidden_layers=40,
            num_attention_heads=16,
            image_size=224,
            patch_size=14,
            hidden_act="gelu",
        ),
    },
    "google/siglip2-base-patch16-224": {
        "family": "siglip",
        "text": dict(
            vocab_size=256000,
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            max_position_embeddings=64,
            hidden_act="gelu_pytorch_tanh",
        ),
        "vision": dict(
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            image_size=224,
            patch_size=16,
            hidden_act="gelu_pytorch_tanh",
        ),
    },
}

# The image preprocessing of OpenAI CLIP (also used by the LAION CLIPs): shortest side to 224 bicubic, centre
# crop, these mean/std. SigLIP squashes to 224x224 bilinear and scales to [-1, 1].
OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def random_twin(name: str, path: str | Path, *, seed: int = 0) -> Path:
    """Write a random-initialised model with ``name``'s real architecture and preprocessing to ``path``.

    Used by the speed benchmark and the performance table: same configs, hence same FLOPs and memory
    traffic as the trained model, so timings transfer; the vectors themselves mean nothing.
    """
    import torch
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        SiglipConfig,
        SiglipImageProcessor,
        SiglipModel,
    )

    from clipaware.models.clip import quiet_transformers

    if name not in TWIN_CONFIGS and name not in DETECTOR_TWIN_CONFIGS:
        known = ", ".join([*TWIN_CONFIGS, *DETECTOR_TWIN_CONFIGS])
        raise ValueError(f"no twin config for {name!r}; known: {known}")
    quiet_transformers()
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    if name in DETECTOR_TWIN_CONFIGS:
        family, config, processor_size = DETECTOR_TWIN_CONFIGS[name]
        return _write_detector(path, family, config, processor_size)
    spec = TWIN_CONFIGS[name]
    text, vision = dict(spec["text"]), dict(spec["vision"])  # type: ignore[call-overload]
    tokenizer = build_word_tokenizer(BASIC_WORDS, max_length=int(text["max_position_embeddings"]))
    side = int(vision["image_size"])
    if spec["family"] == "clip":
        ids = {"pad_token_id": 0, "bos_token_id": 2, "eos_token_id": 3}
        config = CLIPConfig(
            text_config={**text, **ids}, vision_config=vision, projection_dim=spec["projection_dim"], **ids
        )
        model = CLIPModel(config)
        processor = CLIPImageProcessor(
            size={"shortest_edge": side},
            crop_size={"height": side, "width": side},
            image_mean=list(OPENAI_CLIP_MEAN),
            image_std=list(OPENAI_CLIP_STD),
        )
    else:
        model = SiglipModel(SiglipConfig(text_config=text, vision_config=vision))
        processor = SiglipImageProcessor(size={"height": side, "width": side})
    model.eval().save_pretrained(path)
    tokenizer.save_pretrained(path)
    processor.save_pretrained(path)
    return path
