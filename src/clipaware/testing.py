"""Models built here, not downloaded, for tests and benchmarks (as ``transformers.testing_utils`` is for its own).

Nothing in this workplace (or a user's air-gapped machine) can fetch hub weights, yet the real loading path
must be exercised. Every model here is an :class:`Architecture` — a row of data: its family, its towers'
configs, its image size and preprocessing — and one writer, :func:`write_model`, turns any row into an
ordinary ``save_pretrained`` folder (config, safetensors, tokenizer, preprocessor) that
:meth:`clipaware.models.clip.ClipModel.load` and the detectors then read exactly as they read a hub snapshot.

- :data:`TINY`: one tiny, random model per family (CLIP, SigLIP, DINOv2, DETR, OWLv2) for tests;
  :func:`save_tiny_model` writes one.
- :data:`TWINS`: the registry's models at their published sizes, random weights, for latency benchmarks
  (same shapes, hence same FLOPs); :func:`random_twin` writes one.

The tokenizer is word-level (:func:`build_word_tokenizer`) because the CLIP BPE files only ship with hub models.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

BOS, EOS, PAD, UNK = "<|startoftext|>", "<|endoftext|>", "[PAD]", "[UNK]"
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS)
# The ids of those tokens in every tokenizer built here: a text config must name them (CLIP pools on EOS).
TEXT_IDS = {"pad_token_id": 0, "bos_token_id": 2, "eos_token_id": 3}

# A small general vocabulary so that tiny models can read ordinary test captions and prompt templates.
BASIC_WORDS = """
a an the of in on at with and or to from by for is are this that photo picture image drawing painting
sketch rendering close up cropped blurry bright dark good bad large small big little origami plastic
toy sculpture tattoo embroidered black white red green blue yellow orange purple pink brown grey gray
cat cats dog dogs car cars truck bird tree beach sunset city mountain person people man woman child
house street water sky flower food table chair circle square triangle star scene it one two three
""".split()

# The image preprocessing of OpenAI CLIP (also used by the LAION CLIPs): shortest side to 224 bicubic, centre
# crop, these mean/std. SigLIP squashes to 224x224 bilinear and scales to [-1, 1].
OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class Architecture:
    """One model as data: what :func:`write_model` needs to build and save it.

    ``text`` and ``vision`` are the towers' config fields (``vision`` is the whole config of an image-only
    model); a text tower without ``vocab_size`` gets the tokenizer's. ``top`` holds the other top-level config
    fields (``projection_dim``, DETR's layers). ``processor`` overrides the image processor's arguments,
    whose sizes otherwise follow ``image_size`` the way the family's processor takes them.
    """

    family: str  # clip | siglip | dinov2 | detr | owlv2
    image_size: int = 32
    text: dict[str, Any] = field(default_factory=dict)
    vision: dict[str, Any] = field(default_factory=dict)
    top: dict[str, Any] = field(default_factory=dict)
    processor: dict[str, Any] = field(default_factory=dict)


def _tower(hidden: int, intermediate: int, layers: int = 2, heads: int = 2, **more: Any) -> dict[str, Any]:
    return dict(
        hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers, num_attention_heads=heads, **more
    )


# One tiny random model per family, for tests: each loads in milliseconds through the real loaders.
TINY: dict[str, Architecture] = {
    "clip": Architecture(
        "clip",
        text=_tower(32, 128, max_position_embeddings=77),
        vision=_tower(32, 128, patch_size=8),
        top={"projection_dim": 16},
    ),
    "siglip": Architecture(
        "siglip", text=_tower(32, 128, max_position_embeddings=64), vision=_tower(32, 128, patch_size=8)
    ),
    "dinov2": Architecture("dinov2", vision=_tower(32, 64, patch_size=8)),
    "detr": Architecture(  # transformers' own ResNet backbone: no timm, no pretrained download
        "detr",
        top=dict(
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
        ),
    ),
    "owlv2": Architecture(
        "owlv2",
        text=_tower(32, 64, max_position_embeddings=16),
        vision=_tower(32, 64, patch_size=16),
        top={"projection_dim": 32},  # OWLv2 compares image class embeddings with text embeddings of this width
    ),
}

_OPENAI_PIXELS = {"image_mean": list(OPENAI_CLIP_MEAN), "image_std": list(OPENAI_CLIP_STD)}
_BPE_VOCAB = 49408  # CLIP's BPE vocabulary: kept in twins (the embedding table costs memory, not FLOPs)


def _clip_twin(
    text: dict[str, Any], vision: dict[str, Any], patch: int, projection: int, activation: str = "quick_gelu"
) -> Architecture:
    """A CLIP at its published size: BPE vocabulary, 77 text positions, 224-pixel input, OpenAI's pixel stats."""
    return Architecture(
        "clip",
        224,
        text={**text, "vocab_size": _BPE_VOCAB, "max_position_embeddings": 77, "hidden_act": activation},
        vision={**vision, "patch_size": patch, "hidden_act": activation},
        top={"projection_dim": projection},
        processor=_OPENAI_PIXELS,
    )


# The real architectures of the registry's models, written out as data (from each hub repo's config.json), so
# that a random-initialised twin has the same shapes and FLOPs as the trained model. Nothing here can download
# weights, yet speed must be measured on the real compute: a twin gives exactly that.
TWINS: dict[str, Architecture] = {
    "openai/clip-vit-base-patch32": _clip_twin(_tower(512, 2048, 12, 8), _tower(768, 3072, 12, 12), 32, 512),
    "openai/clip-vit-large-patch14": _clip_twin(_tower(768, 3072, 12, 12), _tower(1024, 4096, 24, 16), 14, 768),
    "laion/CLIP-ViT-g-14-laion2B-s12B-b42K": _clip_twin(
        _tower(1024, 4096, 24, 16), _tower(1408, 6144, 40, 16), 14, 1024, activation="gelu"
    ),
    "google/siglip2-base-patch16-224": Architecture(
        "siglip",
        224,
        text=_tower(768, 3072, 12, 12, vocab_size=256000, max_position_embeddings=64, hidden_act="gelu_pytorch_tanh"),
        vision=_tower(768, 3072, 12, 12, patch_size=16, hidden_act="gelu_pytorch_tanh"),
    ),
    "facebook/detr-resnet-50": Architecture(  # DETR's defaults are the published ones: d_model 256, 6+6 layers
        "detr",
        top={"backbone_config": {"model_type": "resnet", "depths": [3, 4, 6, 3], "out_features": ["stage4"]}},
        processor={"size": {"shortest_edge": 800, "longest_edge": 1333}},
    ),
    "google/owlv2-base-patch16-ensemble": Architecture(
        "owlv2",
        960,
        text={"vocab_size": _BPE_VOCAB, "hidden_size": 512, "num_hidden_layers": 12, "num_attention_heads": 8,
              "max_position_embeddings": 16},
        vision={"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "patch_size": 16},
        top={"projection_dim": 512},
    ),
}  # fmt: skip


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

    Ids: 0 pad, 1 unknown, 2 start, 3 end (:data:`TEXT_IDS`), then the words. ``aliases`` maps other
    spellings onto vocabulary words ("gray" → "grey"): a BPE tokenizer reads both, a word-level one only
    what it was trained on.
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


def build_config(arch: Architecture, vocab_size: int | None = None) -> Any:
    """The transformers config of ``arch`` (a text tower without ``vocab_size`` gets ``vocab_size``)."""
    import transformers

    text = {"vocab_size": vocab_size, **arch.text} if arch.text else {}
    vision = {"image_size": arch.image_size, **arch.vision} if arch.family != "detr" else {}
    if arch.family == "clip":
        return transformers.CLIPConfig(text_config={**text, **TEXT_IDS}, vision_config=vision, **arch.top, **TEXT_IDS)
    if arch.family == "siglip":
        return transformers.SiglipConfig(text_config=text, vision_config=vision, **arch.top)
    if arch.family == "owlv2":
        return transformers.Owlv2Config(text_config={**text, **TEXT_IDS}, vision_config=vision, **arch.top)
    if arch.family == "dinov2":
        return transformers.Dinov2Config(**vision)
    if arch.family == "detr":
        from clipaware.models.coco import COCO_CLASSES

        return transformers.DetrConfig(
            use_timm_backbone=False,
            use_pretrained_backbone=False,
            id2label=dict(enumerate(COCO_CLASSES)),
            label2id={name: i for i, name in enumerate(COCO_CLASSES)},
            **arch.top,
        )
    raise ValueError(f"unknown family {arch.family!r}: expected {', '.join(FAMILIES)}")


# family → (model class, image processor class, how the processor takes the image size)
FAMILIES: dict[str, tuple[str, str, str]] = {
    "clip": ("CLIPModel", "CLIPImageProcessor", "crop"),
    "siglip": ("SiglipModel", "SiglipImageProcessor", "square"),
    "dinov2": ("Dinov2Model", "BitImageProcessor", "crop"),
    "detr": ("DetrForObjectDetection", "DetrImageProcessor", "range"),
    "owlv2": ("Owlv2ForObjectDetection", "Owlv2ImageProcessor", "square"),
}


def _processor_sizes(how: str, side: int) -> dict[str, Any]:
    if how == "crop":  # shortest side to ``side``, centre crop
        return {"size": {"shortest_edge": side}, "crop_size": {"height": side, "width": side}}
    if how == "square":  # squashed to a square
        return {"size": {"height": side, "width": side}}
    return {"size": {"shortest_edge": side, "longest_edge": 2 * side}}  # DETR: a range of sides


def write_model(path: str | Path, arch: Architecture, *, seed: int = 0, words: Iterable[str] = BASIC_WORDS) -> Path:
    """Save a random-initialised model of ``arch`` (weights from ``seed``) that loads like a hub snapshot."""
    import torch
    import transformers

    from clipaware.models.clip import quiet_transformers

    quiet_transformers()
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model_class, processor_class, how = FAMILIES[arch.family]
    tokenizer = build_word_tokenizer(words, max_length=arch.text["max_position_embeddings"]) if arch.text else None
    torch.manual_seed(seed)
    model = getattr(transformers, model_class)(build_config(arch, len(tokenizer) if tokenizer else None))
    if arch.family == "siglip":
        with torch.no_grad():  # SigLIP's init leaves scale/bias at 0; give them the paper's starting values
            model.logit_scale.fill_(float(torch.log(torch.tensor(10.0))))
            model.logit_bias.fill_(-10.0)
    model.eval().save_pretrained(path)
    processor = {**_processor_sizes(how, arch.image_size), **arch.processor}
    getattr(transformers, processor_class)(**processor).save_pretrained(path)
    if tokenizer is not None:
        tokenizer.save_pretrained(path)
    return path


def save_tiny_model(
    path: str | Path,
    family: str = "clip",
    *,
    image_size: int = 32,
    seed: int = 0,
    words: Iterable[str] = BASIC_WORDS,
) -> Path:
    """Write a random tiny CLIP, SigLIP, DINOv2, DETR or OWLv2 folder (:data:`TINY`) that loads like a hub snapshot."""
    if family not in TINY:
        raise ValueError(f"unknown family {family!r}: expected {', '.join(TINY)}")
    return write_model(path, replace(TINY[family], image_size=image_size), seed=seed, words=words)


def random_twin(name: str, path: str | Path, *, seed: int = 0) -> Path:
    """Write a random-initialised model with ``name``'s real architecture and preprocessing (:data:`TWINS`).

    Used by the speed benchmarks and the performance table: same configs, hence same FLOPs and memory
    traffic as the trained model, so timings transfer; the vectors themselves mean nothing.
    """
    if name not in TWINS:
        raise ValueError(f"no twin config for {name!r}; known: {', '.join(TWINS)}")
    return write_model(path, TWINS[name], seed=seed)


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
) -> Any:
    """A small CLIPConfig with the special-token ids of :func:`build_word_tokenizer` (to train one, as the
    shapes CLIP is)."""
    tower = _tower(hidden, hidden * 4, layers, heads)
    arch = Architecture(
        "clip",
        image_size,
        text={**tower, "max_position_embeddings": max_text_len},
        vision={**tower, "patch_size": patch_size},
        top={"projection_dim": projection_dim},
    )
    return build_config(arch, vocab_size)
