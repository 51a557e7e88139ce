"""CLIP and SigLIP encoders: images and texts in, L2-normalised float32 vectors out.

The ergonomics follow sentence-transformers (``model.encode_images(items, batch_size=…)`` returning numpy)
because that is what search and index code wants. Scoring knowledge that differs between families lives
here too: CLIP turns logits into a softmax over the candidate texts, SigLIP into independent sigmoids
(its training objective), each with the model's own learned logit scale (and SigLIP's bias).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from clipaware.errors import ModelNotAvailableError
from clipaware.images import ImageSource, load_image
from clipaware.models.hub import canonical_model_name, model_folder
from clipaware.models.registry import REGISTRY, SIGMOID_FAMILIES, family_of_model_type, resolve_model_name
from clipaware.progress import progress_bar

EMBED_FAMILIES = ("clip", "siglip")


def quiet_transformers() -> None:
    """Keep transformers' load-time chatter (progress bars, backend fallbacks) off the user's terminal."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def torch_device(device: str | None = None) -> str:
    """``CLIPAWARE_DEVICE`` or the argument, else CUDA when present, else CPU."""
    import torch

    chosen = device or os.environ.get("CLIPAWARE_DEVICE")
    if chosen:
        return chosen
    return "cuda" if torch.cuda.is_available() else "cpu"


def _pooled(output: Any):
    """transformers 5 returns an output object from get_*_features; 4.x returned the tensor itself."""
    return output if hasattr(output, "norm") else output.pooler_output


def _normalise(features) -> np.ndarray:
    features = features.float()
    features = features / features.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return features.cpu().numpy().astype(np.float32, copy=False)


def _input_side(processor: Any) -> int:
    """The square side the image processor feeds the model (crop size if it crops, else its resize)."""
    for attr in ("crop_size", "size"):
        size = getattr(processor, attr, None)
        if isinstance(size, int):
            return size
        if size is None:
            continue
        get = size.get if isinstance(size, dict) else lambda key, s=size: getattr(s, key, None)
        side = get("height") or get("shortest_edge")
        if side:
            return int(side)
    return 224


class ClipModel:
    """A loaded CLIP-family model (CLIP or SigLIP) with its tokenizer and image processor."""

    def __init__(self, name: str, model: Any, tokenizer: Any, processor: Any, family: str, device: str) -> None:
        self.name = name
        self.model = model
        self.tokenizer = tokenizer
        self.processor = processor
        self.family = family
        self.device = device
        self.image_size = _input_side(processor)

    @classmethod
    def load(cls, name: str | os.PathLike[str] | None = None, *, device: str | None = None) -> ClipModel:
        """Load by hub name (``openai/clip-vit-base-patch32``) or local ``save_pretrained`` folder.

        With no name: ``CLIPAWARE_MODEL`` or the registry default. A model that is neither local nor
        downloadable raises :class:`ModelNotAvailableError` with the way to get it.
        """
        import torch
        from transformers import AutoConfig, AutoImageProcessor, AutoModel, AutoTokenizer

        quiet_transformers()
        name = canonical_model_name(resolve_model_name(str(name) if name is not None else None))
        folder = model_folder(name)
        try:
            config = AutoConfig.from_pretrained(folder)
        except Exception as exc:
            raise ModelNotAvailableError(f"model '{name}' has an unreadable config ({exc})") from exc
        family = family_of_model_type(config.model_type)
        if family not in EMBED_FAMILIES:
            raise ModelNotAvailableError(
                f"model '{name}' is a {config.model_type!r} model, not an image-text (CLIP or SigLIP) model"
            )
        device = torch_device(device)
        try:
            model = AutoModel.from_pretrained(folder, dtype=torch.float32).to(device).eval()
            tokenizer = AutoTokenizer.from_pretrained(folder)
            processor = AutoImageProcessor.from_pretrained(folder)
        except Exception as exc:
            raise ModelNotAvailableError(
                f"model '{name}' could not be loaded from {folder}: {exc}; its files may be incomplete — "
                f"run `clipaware models pull {name}` again"
            ) from exc
        return cls(name, model, tokenizer, processor, family, device)

    # ------------------------------------------------------------------ facts
    @property
    def embedding_dim(self) -> int:
        config = self.model.config
        return int(getattr(config, "projection_dim", None) or config.vision_config.hidden_size)

    @property
    def logit_scale(self) -> float:
        """The learned temperature, already exponentiated (≈100 for OpenAI CLIP)."""
        return float(self.model.logit_scale.detach().exp().item())

    @property
    def logit_bias(self) -> float:
        """SigLIP's learned bias; 0 for CLIP."""
        bias = getattr(self.model, "logit_bias", None)
        return float(bias.detach().reshape(-1)[0].item()) if bias is not None else 0.0

    @property
    def uses_sigmoid(self) -> bool:
        return self.family in SIGMOID_FAMILIES

    @property
    def spec(self):
        return REGISTRY.get(self.name)

    def knows(self, word: str) -> bool:
        """Whether the tokenizer can read ``word`` (sub-word BPE reads anything; a word-level one may not)."""
        unk = getattr(self.tokenizer, "unk_token_id", None)
        if unk is None:
            return True
        ids = self.tokenizer(word, add_special_tokens=False)["input_ids"]
        return bool(ids) and unk not in ids

    # --------------------------------------------------------------- encoding
    def encode_images(
        self,
        items: Sequence[ImageSource],
        batch_size: int = 32,
        show_progress: bool = False,
    ) -> np.ndarray:
        """Embed images (paths, bytes or PIL images) as unit vectors, shape ``(len(items), dim)``.

        A bad image raises :class:`~clipaware.errors.ImageLoadError` naming it; the index, which must
        skip rather than stop, decodes first with :func:`clipaware.images.decode_image`.
        """
        pictures = list(items)
        chunks = [pictures[i : i + batch_size] for i in range(0, len(pictures), max(1, batch_size))]
        out: list[np.ndarray] = []
        with progress_bar(show_progress, "embedding images") as report:
            for chunk in chunks:
                out.append(self.embed_pil([load_image(x, self.image_size) for x in chunk]))
                report(sum(len(o) for o in out), len(pictures))
        return np.concatenate(out) if out else np.zeros((0, self.embedding_dim), np.float32)

    def embed_pil(self, images: Sequence[Any]) -> np.ndarray:
        """One forward pass over already-decoded RGB images."""
        import torch

        if not images:
            return np.zeros((0, self.embedding_dim), np.float32)
        inputs = self.processor(images=list(images), return_tensors="pt")
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            return _normalise(_pooled(self.model.get_image_features(**inputs)))

    def encode_texts(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """Embed texts as unit vectors, shape ``(len(texts), dim)``."""
        import torch

        texts = [str(t) for t in texts]
        out: list[np.ndarray] = []
        for i in range(0, len(texts), max(1, batch_size)):
            inputs = self.tokenizer(texts[i : i + batch_size], return_tensors="pt", **self._text_kwargs())
            inputs = {k: v.to(self.device) for k, v in inputs.items()}
            with torch.inference_mode():
                out.append(_normalise(_pooled(self.model.get_text_features(**inputs))))
        return np.concatenate(out) if out else np.zeros((0, self.embedding_dim), np.float32)

    def _text_kwargs(self) -> dict[str, Any]:
        max_len = int(getattr(self.model.config.text_config, "max_position_embeddings", 77))
        if self.family == "siglip":  # SigLIP was trained on text padded to its full length
            return {"padding": "max_length", "truncation": True, "max_length": max_len}
        return {"padding": True, "truncation": True, "max_length": max_len}

    def patch_similarity(self, image: ImageSource, text: str) -> np.ndarray:
        """Cosine of each image patch with the text, as a ``(grid, grid)`` map (for heat-maps).

        CLIP pools patches into one vector, so it never says *where* it saw the text; projecting each
        patch token into the joint space (the MaskCLIP trick) shows which parts of the image drove the
        score. It explains, it does not localise precisely.
        """
        import torch

        pil = load_image(image, self.image_size)
        inputs = {k: v.to(self.device) for k, v in self.processor(images=[pil], return_tensors="pt").items()}
        text_vector = torch.from_numpy(self.encode_texts([text])[0]).to(self.device)
        with torch.inference_mode():
            hidden = self.model.vision_model(pixel_values=inputs["pixel_values"]).last_hidden_state[0]
            if self.family == "clip":  # CLIP: CLS first, layer-norm then project like the pooled token
                patches = self.model.visual_projection(self.model.vision_model.post_layernorm(hidden[1:]))
            else:  # SigLIP: no CLS token; last_hidden_state is already post-layer-normed, same width
                patches = hidden
            patches = patches / patches.norm(dim=-1, keepdim=True).clamp_min(1e-12)
            sims = (patches @ text_vector.float()).cpu().numpy()
        grid = math.isqrt(sims.shape[0])
        return sims[: grid * grid].reshape(grid, grid).astype(np.float32)

    # ---------------------------------------------------------------- scoring
    def logits(self, image_embeddings: np.ndarray, text_embeddings: np.ndarray) -> np.ndarray:
        """The model's own logits, ``(n_images, n_texts)``: scale · cosine (+ bias for SigLIP)."""
        return self.logit_scale * (image_embeddings @ text_embeddings.T) + self.logit_bias

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Per-image probabilities over the texts: softmax for CLIP, independent sigmoids for SigLIP."""
        if self.uses_sigmoid:
            return 1.0 / (1.0 + np.exp(-logits))
        shifted = logits - logits.max(axis=-1, keepdims=True)
        exp = np.exp(shifted)
        return exp / exp.sum(axis=-1, keepdims=True)

    def __repr__(self) -> str:
        return f"ClipModel({self.name!r}, family={self.family!r}, dim={self.embedding_dim})"


def model_cache_state(name: str) -> Path | None:
    """Where a model's files are, if they are already here (no download)."""
    try:
        return model_folder(name, allow_download=False)
    except ModelNotAvailableError:
        return None
