"""A model's tokenizer, image preprocessing and config, read from its files without transformers.

Once a model's ONNX engine is cached, encoding needs three things besides ONNX Runtime: the tokenizer
(``tokenizer.json``, run by the ``tokenizers`` library that transformers' fast tokenizers wrap), the image
preprocessing (``preprocessor_config.json``: resize, crop, rescale, normalise — see
:class:`~clipaware.models.preprocess.FastPreprocessor`) and a few config facts. Importing transformers and
torch to read those costs seconds per command, which is most of a warm ``clipaware search``.

Only what is known to equal transformers is read here (tested against it): a tokenizers-backed tokenizer
class and the CLIP / SigLIP image processors, with their defaults for keys the file leaves out. Anything
else returns None and the caller loads through transformers as before, so the fallback is the old path.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

# tokenizer classes that are tokenizer.json run by the tokenizers library, with no Python-side text changes
TOKENIZER_CLASSES = frozenset({"TokenizersBackend", "PreTrainedTokenizerFast", "CLIPTokenizer", "CLIPTokenizerFast"})

OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
BICUBIC = 3
# transformers' defaults for each image processor, for keys a preprocessor_config.json leaves out
PROCESSOR_DEFAULTS: dict[str, dict[str, Any]] = {
    "CLIPImageProcessor": {
        "do_resize": True,
        "size": {"shortest_edge": 224},
        "resample": BICUBIC,
        "do_center_crop": True,
        "crop_size": {"height": 224, "width": 224},
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": OPENAI_CLIP_MEAN,
        "image_std": OPENAI_CLIP_STD,
    },
    "SiglipImageProcessor": {
        "do_resize": True,
        "size": {"height": 224, "width": 224},
        "resample": BICUBIC,
        "do_center_crop": False,
        "crop_size": None,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": (0.5, 0.5, 0.5),
        "image_std": (0.5, 0.5, 0.5),
    },
}
PROCESSOR_ALIASES = {"CLIPFeatureExtractor": "CLIPImageProcessor", "SiglipFeatureExtractor": "SiglipImageProcessor"}


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def model_type(folder: Path) -> str | None:
    """The ``model_type`` in the folder's config.json (``clip``, ``siglip``…), or None if unreadable."""
    config = read_json(Path(folder) / "config.json")
    value = config.get("model_type") if config else None
    return value if isinstance(value, str) else None


class JsonTokenizer:
    """A ``tokenizer.json`` behind the slice of transformers' tokenizer call that ClipModel uses.

    ``tokenizer(texts, padding=True | "max_length", truncation=True, max_length=n, return_tensors="np")``
    gives ``input_ids`` and ``attention_mask`` as the fast tokenizer does (right padding with the pad token);
    ``tokenize`` and ``unk_token_id`` serve the word checks. Padding is done here in NumPy rather than by
    the shared Tokenizer's settings, so calls from several threads never change each other's padding.
    """

    def __init__(self, tokenizer: Any, pad_token_id: int | None, unk_token_id: int | None) -> None:
        self._tokenizer = tokenizer
        self.pad_token_id = pad_token_id
        self.unk_token_id = unk_token_id
        self._truncators: dict[int, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_folder(cls, folder: Path) -> JsonTokenizer | None:
        """The folder's tokenizer, or None when it is not one this class reproduces exactly."""
        folder = Path(folder)
        settings = read_json(folder / "tokenizer_config.json")
        if settings is None or settings.get("tokenizer_class") not in TOKENIZER_CLASSES:
            return None
        if not (folder / "tokenizer.json").is_file():
            return None
        if settings.get("padding_side", "right") != "right" or settings.get("truncation_side", "right") != "right":
            return None
        from tokenizers import Tokenizer

        try:
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception:
            return None
        tokenizer.no_padding()
        tokenizer.no_truncation()

        def token_id(key: str) -> int | None:
            token = settings.get(key)
            if isinstance(token, dict):  # an AddedToken written out in full
                token = token.get("content")
            return tokenizer.token_to_id(token) if isinstance(token, str) else None

        return cls(tokenizer, token_id("pad_token"), token_id("unk_token"))

    def tokenize(self, text: str) -> list[str]:
        return list(self._tokenizer.encode(text, add_special_tokens=False).tokens)

    def __call__(
        self,
        texts: str | list[str],
        *,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool = False,
        max_length: int | None = None,
        return_tensors: str | None = None,
    ) -> dict[str, Any]:
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        tokenizer = self._truncating(max_length) if truncation and max_length else self._tokenizer
        ids = [list(e.ids) for e in tokenizer.encode_batch(batch, add_special_tokens=add_special_tokens)]
        if padding:
            if self.pad_token_id is None:
                raise ValueError("this tokenizer has no pad token, so texts of different lengths cannot be batched")
            width = max_length if padding == "max_length" and max_length else max((len(r) for r in ids), default=0)
            mask = [[1] * len(r) + [0] * (width - len(r)) for r in ids]
            ids = [r + [self.pad_token_id] * (width - len(r)) for r in ids]
        else:
            mask = [[1] * len(r) for r in ids]
        if return_tensors == "np":
            return {"input_ids": np.asarray(ids, np.int64), "attention_mask": np.asarray(mask, np.int64)}
        if single:
            return {"input_ids": ids[0], "attention_mask": mask[0]}
        return {"input_ids": ids, "attention_mask": mask}

    def _truncating(self, max_length: int) -> Any:
        """A copy of the tokenizer that truncates to ``max_length`` (special tokens kept, as transformers does)."""
        with self._lock:
            tokenizer = self._truncators.get(max_length)
            if tokenizer is None:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_str(self._tokenizer.to_str())
                tokenizer.enable_truncation(max_length)
                self._truncators[max_length] = tokenizer
            return tokenizer


def image_processor_settings(folder: Path) -> Any | None:
    """The image processor's settings (as attributes, with transformers' defaults), or None if not one we copy."""
    config = read_json(Path(folder) / "preprocessor_config.json")
    if config is None:
        return None
    kind = config.get("image_processor_type") or config.get("feature_extractor_type")
    kind = PROCESSOR_ALIASES.get(kind, kind)
    if isinstance(kind, str) and kind.endswith("Pil"):
        kind = kind[: -len("Pil")]
    defaults = PROCESSOR_DEFAULTS.get(kind)  # type: ignore[arg-type]
    if defaults is None or config.get("do_pad"):
        return None
    settings = {key: config.get(key, default) for key, default in defaults.items()}
    if isinstance(settings["size"], int):  # transformers reads a bare number as the shortest edge
        settings["size"] = {"shortest_edge": settings["size"]}
    if isinstance(settings["crop_size"], int):
        settings["crop_size"] = {"height": settings["crop_size"], "width": settings["crop_size"]}
    if not isinstance(settings["size"], dict) or not isinstance(settings["crop_size"], dict | None):
        return None
    from types import SimpleNamespace

    return SimpleNamespace(**settings)
