"""Fine-grained image features (DINOv2): for telling apart things CLIP lumps together.

CLIP's image vector is shaped by captions, and captions rarely name the car model, the dog breed or the
person, so it clusters "a car" well and "a 1967 Mustang" badly. DINOv2 is trained on images alone
(self-distillation) and its CLS feature separates instances and sub-categories far better, which is
why the identify route compares a photo with a labelled gallery in DINOv2 space.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from clipaware.errors import ModelNotAvailableError
from clipaware.images import ImageSource, load_image
from clipaware.models.clip import _input_side, _normalise_np, quiet_transformers, torch_device
from clipaware.models.hub import canonical_model_name, model_folder

DEFAULT_FEATURE_MODEL = "facebook/dinov2-small"


class FeatureModel:
    """A loaded DINOv2-family image encoder returning unit-length CLS features."""

    def __init__(self, name: str, model: Any, processor: Any, device: str) -> None:
        self.name, self.model, self.processor, self.device = name, model, processor, device
        self.image_size = _input_side(processor)

    @classmethod
    def load(cls, name: str | None = None, *, device: str | None = None) -> FeatureModel:
        """Load by hub name (``facebook/dinov2-small`` by default, ``-base`` for more accuracy) or folder."""
        name = canonical_model_name(name or DEFAULT_FEATURE_MODEL)
        folder = model_folder(name, option="--feature-model")  # first: missing is reported before torch loads
        import torch
        from transformers import AutoConfig, AutoImageProcessor, AutoModel

        quiet_transformers()
        config = AutoConfig.from_pretrained(folder)
        if config.model_type not in ("dinov2", "dinov2_with_registers"):
            raise ModelNotAvailableError(f"model '{name}' is a {config.model_type!r} model, not a DINOv2 image encoder")
        device = torch_device(device)
        try:
            model = AutoModel.from_pretrained(folder, dtype=torch.float32).to(device).eval()
            processor = AutoImageProcessor.from_pretrained(folder)
        except Exception as exc:
            raise ModelNotAvailableError(f"model '{name}' could not be loaded from {folder}: {exc}") from exc
        return cls(name, model, processor, device)

    @property
    def embedding_dim(self) -> int:
        return int(self.model.config.hidden_size)

    def encode_images(self, items: Sequence[ImageSource], batch_size: int = 32) -> np.ndarray:
        """Unit-length CLS features, shape ``(len(items), dim)``; bad images raise ImageLoadError."""
        import torch

        pictures = list(items)
        out: list[np.ndarray] = []
        for i in range(0, len(pictures), max(1, batch_size)):
            images = [load_image(x, self.image_size) for x in pictures[i : i + batch_size]]
            inputs = {k: v.to(self.device) for k, v in self.processor(images=images, return_tensors="pt").items()}
            with torch.inference_mode():
                out.append(_normalise_np(self.model(**inputs).pooler_output.float().cpu().numpy()))
        return np.concatenate(out) if out else np.zeros((0, self.embedding_dim), np.float32)
