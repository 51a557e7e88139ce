"""CLIP and SigLIP encoders: images and texts in, L2-normalised float32 vectors out.

The ergonomics follow sentence-transformers (``model.encode_images(items, batch_size=…)`` returning numpy)
because that is what search and index code wants. Scoring knowledge that differs between families lives
here too: CLIP turns logits into a softmax over the candidate texts, SigLIP into independent sigmoids
(its training objective), each with the model's own learned logit scale (and SigLIP's bias).
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from clipaware.errors import ModelNotAvailableError
from clipaware.images import ImageSource, load_image
from clipaware.models.engines import PROBE_TEXTS, BuiltEngine, TorchEngine, build_engine, model_facts, probe_images
from clipaware.models.hub import canonical_model_name, model_folder
from clipaware.models.preprocess import FastPreprocessor
from clipaware.models.registry import REGISTRY, SIGMOID_FAMILIES, family_of_model_type, resolve_model_name
from clipaware.models.runtime import RuntimeChoice, resolve_choice
from clipaware.progress import progress_bar

EMBED_FAMILIES = ("clip", "siglip")


def quiet_transformers() -> None:
    """Keep transformers' load-time chatter (progress bars, backend fallbacks) off the user's terminal."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def torch_device(device: str | None = None) -> str:
    """The named device, else CUDA when present, else CPU.

    Asking PyTorch costs its import (seconds); a CPU-only torch build, or a machine with no NVIDIA driver,
    cannot have CUDA, so that answer needs no import (see :func:`cuda_impossible`).
    """
    if device:
        return device
    if cuda_impossible():
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def cuda_impossible() -> bool:
    """True when CUDA certainly is not usable, known without importing torch: no NVIDIA driver, or a CPU build."""
    from importlib import metadata

    try:
        version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        return True
    return version.endswith("+cpu") or not (Path("/proc/driver/nvidia").exists() or Path("/dev/nvidiactl").exists())


def _normalise_np(features: np.ndarray) -> np.ndarray:
    features = np.asarray(features, dtype=np.float32)
    return features / np.maximum(np.linalg.norm(features, axis=-1, keepdims=True), 1e-12)


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


class ModelInputs:
    """Images and texts turned into what the towers take: preprocessing and tokenising, no weights needed.

    Built before the weights load, because the engine check feeds a probe through it first.
    """

    def __init__(self, family: str, max_length: int, tokenizer: Any, processor: Any) -> None:
        self.family, self.max_length, self.tokenizer, self.processor = family, max_length, tokenizer, processor
        self.fast_preprocess = FastPreprocessor.from_processor(processor)
        self.image_size = _input_side(processor)

    @classmethod
    def from_files(cls, folder: Path, family: str, max_length: int) -> ModelInputs | None:
        """Tokenizer and preprocessing read from the folder's files, no transformers; None if not reproducible."""
        from clipaware.models.model_files import JsonTokenizer, image_processor_settings

        settings = image_processor_settings(folder)
        if settings is None or FastPreprocessor.from_processor(settings) is None:
            return None
        tokenizer = JsonTokenizer.from_folder(folder)
        if tokenizer is None or tokenizer.pad_token_id is None:
            return None
        return cls(family, max_length, tokenizer, settings)

    def preprocess(self, image: Any) -> np.ndarray:
        """One decoded RGB image as the model's ``(3, H, W)`` float32 input (thread-safe)."""
        if self.fast_preprocess is not None:
            return self.fast_preprocess(image)
        return self.processor(images=[image], return_tensors="np")["pixel_values"][0].astype(np.float32)

    def preprocess_batch(self, images: Sequence[Any]) -> np.ndarray:
        if not images:
            return np.zeros((0, 3, self.image_size, self.image_size), np.float32)
        return np.stack([self.preprocess(image) for image in images])

    def tokenize(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        encoded = self.tokenizer(list(texts), return_tensors="np", **self._text_kwargs())
        return {k: np.asarray(v, dtype=np.int64) for k, v in encoded.items() if k in ("input_ids", "attention_mask")}

    def _text_kwargs(self) -> dict[str, Any]:
        max_len = self.max_length
        if self.family == "siglip":  # SigLIP was trained on text padded to its full length
            return {"padding": "max_length", "truncation": True, "max_length": max_len}
        return {"padding": True, "truncation": True, "max_length": max_len}


class TextCache:
    """An LRU cache of text embeddings: prompt ensembles and repeated queries are embedded once."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, text: str) -> np.ndarray | None:
        vector = self._items.get(text)
        if vector is None:
            self.misses += 1
            return None
        self._items.move_to_end(text)
        self.hits += 1
        return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        self._items[text] = vector
        self._items.move_to_end(text)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class ClipModel:
    """A loaded CLIP-family model (CLIP or SigLIP): tokenizer, image preprocessing and an engine.

    The engine (PyTorch or ONNX Runtime, fp32 / bf16 / int8; see :mod:`clipaware.models.runtime`) runs the
    towers; everything else (preprocessing, normalisation, scoring) is the same whichever runs.
    """

    def __init__(
        self,
        name: str,
        model: Any,
        tokenizer: Any,
        processor: Any,
        family: str,
        device: str,
        *,
        built: BuiltEngine | None = None,
        config: Any = None,
        folder: Path | None = None,
        inputs: ModelInputs | None = None,
        embedding_dim: int | None = None,
    ) -> None:
        self.name = name
        self._model = model
        self.tokenizer = tokenizer
        self.processor = processor
        self.family = family
        self.device = device
        self.folder = folder
        # the transformers config; None on the warm path, which reads the facts it needs from files
        self.config = config if config is not None else getattr(model, "config", None)
        if built is None:
            built = BuiltEngine(
                TorchEngine(model, "fp32", device),
                RuntimeChoice("torch", "fp32", "given a model"),
                None,
                model=model,
                **model_facts(model),
            )
        self.engine = built.engine
        self.runtime = built.choice
        self.check = built.check
        self._logit_scale = built.logit_scale
        self._logit_bias = built.logit_bias
        self.inputs = inputs or ModelInputs(family, text_max_length(self.config), tokenizer, processor)
        self._embedding_dim = embedding_dim or config_embedding_dim(self.config)
        self.image_size = self.inputs.image_size
        self.fast_preprocess = self.inputs.fast_preprocess
        self.text_cache = TextCache()

    @classmethod
    def load(
        cls,
        name: str | os.PathLike[str] | None = None,
        *,
        runtime: str | None = None,
        precision: str | None = None,
        device: str | None = None,
        onnx_cache: str | os.PathLike[str] | None = None,
        ort_spin: bool = False,
    ) -> ClipModel:
        """Load by hub name (``openai/clip-vit-base-patch32``) or local ``save_pretrained`` folder.

        Everything is explicit; nothing is read from flags or the environment (the CLI does that at the
        door). With no name: the registry default. A model that is neither local nor downloadable raises
        :class:`ModelNotAvailableError` with the way to get it. ``runtime`` / ``precision`` (else the CPU's
        best; see :mod:`clipaware.models.runtime`) pick the engine; a fast engine whose vectors stray from
        fp32 is refused with a warning. ``device``: a PyTorch device (default CUDA when present, else CPU).
        ``onnx_cache``: where ONNX exports are kept (default: ``clipaware-onnx`` in the hub cache);
        ``ort_spin``: let ONNX Runtime threads spin while idle (off: they would steal the decoders' cores).
        """
        name = canonical_model_name(resolve_model_name(str(name) if name is not None else None))
        folder = model_folder(name)  # first: a missing model is reported before transformers loads
        device = torch_device(device)
        choice = resolve_choice(runtime, precision)
        if device != "cpu" and choice.runtime != "torch":
            choice = RuntimeChoice(
                "torch",
                choice.precision if choice.precision != "int8" else "fp32",
                f"ONNX Runtime runs on CPU here; {device} uses PyTorch",
            )
        if choice.runtime == "onnx":
            warm = cls._load_from_engine_cache(name, folder, choice, device, onnx_cache, ort_spin)
            if warm is not None:
                return warm

        from transformers import AutoConfig, AutoImageProcessor, AutoTokenizer

        quiet_transformers()
        try:
            config = AutoConfig.from_pretrained(folder)
        except Exception as exc:
            raise ModelNotAvailableError(f"model '{name}' has an unreadable config ({exc})") from exc
        family = family_of_model_type(config.model_type)
        if family not in EMBED_FAMILIES:
            raise ModelNotAvailableError(
                f"model '{name}' is a {config.model_type!r} model, not an image-text (CLIP or SigLIP) model"
            )
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder)
            processor = AutoImageProcessor.from_pretrained(folder)
        except Exception as exc:
            raise ModelNotAvailableError(_incomplete(name, folder, exc)) from exc
        inputs = ModelInputs(family, text_max_length(config), tokenizer, processor)  # the probe needs no weights
        built = _build(choice, name, folder, inputs, device, onnx_cache, ort_spin)
        if built.choice.runtime == "onnx":  # what a later load needs to skip transformers (see below)
            _remember_input_facts(name, folder, onnx_cache, config)
        return cls(name, built.model, tokenizer, processor, family, device, built=built, config=config, folder=folder)

    @classmethod
    def _load_from_engine_cache(
        cls, name: str, folder: Path, choice: RuntimeChoice, device: str, onnx_cache: Any, ort_spin: bool = False
    ) -> ClipModel | None:
        """The warm path: a model whose ONNX engine is cached, loaded without torch or transformers.

        The engine files and their check are in the cache; the tokenizer, the preprocessing and the two
        config facts encoding needs (text length, vector size) come from the model's own files and the
        cache's meta.json (see :mod:`clipaware.models.model_files`). None when any of it is missing or not
        one we reproduce exactly: the caller then loads through transformers, as a first load does.
        """
        from clipaware.models import onnx as ox
        from clipaware.models.model_files import model_type

        kind = model_type(folder)
        family = family_of_model_type(kind) if kind else None
        if family not in EMBED_FAMILIES:
            return None
        meta = ox.read_json(ox.cache_folder(name, folder, onnx_cache) / "meta.json")
        if not isinstance(meta.get("text_max_length"), int) or not isinstance(meta.get("embedding_dim"), int):
            return None
        inputs = ModelInputs.from_files(folder, family, meta["text_max_length"])  # type: ignore[arg-type]
        if inputs is None:
            return None
        built = _build(choice, name, folder, inputs, device, onnx_cache, ort_spin)
        return cls(
            name,
            built.model,
            inputs.tokenizer,
            inputs.processor,
            family,  # type: ignore[arg-type]
            device,
            built=built,
            folder=folder,
            inputs=inputs,
            embedding_dim=meta["embedding_dim"],
        )

    # ------------------------------------------------------------------ facts
    @property
    def model(self) -> Any:
        """The fp32 PyTorch model; loaded on first use when a cached ONNX engine made it unnecessary."""
        if self._model is None:
            import torch
            from transformers import AutoModel

            self._model = AutoModel.from_pretrained(self.folder, dtype=torch.float32).to(self.device).eval()
        return self._model

    @property
    def embedding_dim(self) -> int:
        return self._embedding_dim

    @property
    def logit_scale(self) -> float:
        """The learned temperature, already exponentiated (≈100 for OpenAI CLIP)."""
        return self._logit_scale

    @property
    def logit_bias(self) -> float:
        """SigLIP's learned bias; 0 for CLIP."""
        return self._logit_bias

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

    @property
    def batch_size(self) -> int:
        """Images per forward pass that suits the engine (see runtime.BATCH_SIZES)."""
        return self.runtime.batch_size

    # ----------------------------------------------------------- preprocessing
    def preprocess(self, image: Any) -> np.ndarray:
        """One decoded RGB image as the model's ``(3, H, W)`` float32 input (thread-safe)."""
        return self.inputs.preprocess(image)

    def preprocess_batch(self, images: Sequence[Any]) -> np.ndarray:
        return self.inputs.preprocess_batch(images)

    def prepare(self, item: ImageSource) -> np.ndarray:
        """Decode (JPEG draft mode, straight to the model's size) and preprocess one image."""
        return self.preprocess(load_image(item, self.image_size))

    def tokenize(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        return self.inputs.tokenize(texts)

    # --------------------------------------------------------------- encoding
    def encode_images(
        self,
        items: Sequence[ImageSource],
        batch_size: int | None = None,
        show_progress: bool = False,
    ) -> np.ndarray:
        """Embed images (paths, bytes or PIL images) as unit vectors, shape ``(len(items), dim)``.

        Decoding and preprocessing run in worker threads ahead of the engine, so the CPU is busy with
        the next batch's pixels while the current batch is in the model. A bad image raises
        :class:`~clipaware.errors.ImageLoadError` naming it; the index, which must skip rather than stop,
        decodes first with :func:`clipaware.images.decode_image`.
        """
        from clipaware.pipeline import embed_stream

        pictures = list(items)
        out: list[np.ndarray] = []
        with progress_bar(show_progress, "embedding images") as report:
            for vectors in embed_stream(self, pictures, self.prepare, batch_size or self.batch_size):
                out.append(vectors)
                report(sum(len(o) for o in out), len(pictures))
        return np.concatenate(out) if out else np.zeros((0, self.embedding_dim), np.float32)

    def embed_pixels(self, pixel_values: np.ndarray) -> np.ndarray:
        """One forward pass over preprocessed ``(n, 3, H, W)`` pixels, as unit vectors."""
        if len(pixel_values) == 0:
            return np.zeros((0, self.embedding_dim), np.float32)
        return _normalise_np(self.engine.image(pixel_values))

    def embed_pil(self, images: Sequence[Any]) -> np.ndarray:
        """One forward pass over already-decoded RGB images."""
        if not images:
            return np.zeros((0, self.embedding_dim), np.float32)
        return self.embed_pixels(self.preprocess_batch(list(images)))

    def encode_texts(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """Embed texts as unit vectors, shape ``(len(texts), dim)``.

        Texts already seen (a prompt template ensemble, a repeated query) come from an LRU cache; the rest
        are embedded in batches of similar length, so short texts are not padded to the longest one.
        """
        texts = [str(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        missing: list[str] = []
        for text in dict.fromkeys(texts):
            vector = self.text_cache.get(text)
            if vector is None:
                missing.append(text)
            else:
                found[text] = vector
        missing.sort(key=lambda t: len(self.tokenizer.tokenize(t)))
        for i in range(0, len(missing), max(1, batch_size)):
            chunk = missing[i : i + batch_size]
            vectors = _normalise_np(self.engine.text(self.tokenize(chunk)))
            for text, vector in zip(chunk, vectors, strict=True):
                vector.flags.writeable = False
                self.text_cache.put(text, vector)
                found[text] = vector
        if not texts:
            return np.zeros((0, self.embedding_dim), np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)

    def patch_similarity(self, image: ImageSource, text: str) -> np.ndarray:
        """Cosine of each image patch with the text, as a ``(grid, grid)`` map (for heat-maps).

        CLIP pools patches into one vector, so it never says *where* it saw the text; projecting each
        patch token into the joint space (the MaskCLIP trick) shows which parts of the image drove the
        score. It explains, it does not localise precisely.
        """
        import torch

        pil = load_image(image, self.image_size)
        pixels = torch.from_numpy(self.preprocess_batch([pil])).to(self.device)
        text_vector = torch.from_numpy(self.encode_texts([text])[0]).to(self.device)
        with torch.inference_mode():
            hidden = self.model.vision_model(pixel_values=pixels).last_hidden_state[0]
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
        return f"ClipModel({self.name!r}, family={self.family!r}, dim={self.embedding_dim}, {self.runtime.label})"


def text_max_length(config: Any) -> int:
    """How many tokens the text tower reads (its position embeddings)."""
    return int(getattr(config.text_config, "max_position_embeddings", 77))


def config_embedding_dim(config: Any) -> int:
    """The joint space's size: CLIP's projection, SigLIP's (unprojected) vision width."""
    return int(getattr(config, "projection_dim", None) or config.vision_config.hidden_size)


def _load_torch(name: str, folder: Path, device: str) -> Any:
    import torch
    from transformers import AutoModel

    quiet_transformers()
    try:
        return AutoModel.from_pretrained(folder, dtype=torch.float32).to(device).eval()
    except Exception as exc:
        raise ModelNotAvailableError(_incomplete(name, folder, exc)) from exc


def _build(
    choice: RuntimeChoice,
    name: str,
    folder: Path,
    inputs: ModelInputs,
    device: str,
    onnx_cache: Any,
    ort_spin: bool = False,
) -> BuiltEngine:
    def probe() -> tuple[np.ndarray, dict[str, np.ndarray]]:
        return inputs.preprocess_batch(probe_images()), inputs.tokenize(list(PROBE_TEXTS))

    return build_engine(
        choice,
        name=name,
        folder=folder,
        load_torch=lambda: _load_torch(name, folder, device),
        probe=probe,
        device=device,
        onnx_cache=onnx_cache,
        ort_spin=ort_spin,
    )


def _remember_input_facts(name: str, folder: Path, onnx_cache: Any, config: Any) -> None:
    """Write the text length and vector size beside the engine, so the warm path needs no config class."""
    from clipaware.models import onnx as ox

    meta_path = ox.cache_folder(name, folder, onnx_cache) / "meta.json"
    meta = ox.read_json(meta_path)
    facts = {"text_max_length": text_max_length(config), "embedding_dim": config_embedding_dim(config)}
    if meta and any(meta.get(k) != v for k, v in facts.items()):
        ox.update_json(meta_path, **facts)


def _incomplete(name: str, folder: Path, exc: Exception) -> str:
    return (
        f"model '{name}' could not be loaded from {folder}: {exc}; its files may be incomplete — "
        f"run `clipaware models pull {name}` again"
    )
