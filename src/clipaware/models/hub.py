"""Finding a model's files: a local folder, the Hugging Face cache, or (with network) the hub.

Every loader in clipaware goes through :func:`model_folder`, so a missing model fails the same way
everywhere: one :class:`ModelNotAvailableError` that names the model and says how to get it, instead of
a retry loop and a stack trace from inside a hub client.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from clipaware.errors import ModelNotAvailableError

# Only what transformers needs to load weights, tokenizer and preprocessor: hub repos often also hold
# TF/Flax/open_clip copies of the weights, gigabytes we never read.
WEIGHT_PATTERNS = ["model.safetensors", "model-*.safetensors", "model.safetensors.index.json"]
LEGACY_WEIGHT_PATTERNS = ["pytorch_model.bin", "pytorch_model-*.bin", "pytorch_model.bin.index.json"]
SIDE_PATTERNS = [
    "config.json",
    "preprocessor_config.json",
    "processor_config.json",
    "tokenizer*",
    "special_tokens_map.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "*.model",
]


def is_local_reference(name: str) -> bool:
    """A name that points at a folder on disk rather than a hub repository or a model shipped in the package.

    A shipped model's name (``shapes``) wins over a folder of that name in the working folder: write
    ``./shapes`` to mean the folder.
    """
    from clipaware.models.registry import bundled_folder

    if bundled_folder(name) is not None:
        return False
    return Path(name).expanduser().is_dir() or name.startswith((".", "/", "~"))


def canonical_model_name(name: str) -> str:
    """The name to record in an index: absolute for folders (so it means the same from any cwd); a shipped
    model's alias becomes its name (``shapes`` -> ``shapes-clip``)."""
    from clipaware.models.registry import MODEL_ALIASES

    if is_local_reference(name):
        return str(Path(name).expanduser().resolve())
    return MODEL_ALIASES.get(name, name)


def _how_to_get(name: str, option: str = "--model") -> str:
    """The way out, naming the option that takes this kind of model (``--detector`` for a detector: telling
    a user to pass a detector folder as ``--model`` would replace their CLIP)."""
    return (
        f"run `clipaware models pull {name}` on a machine with network access (it fills the Hugging Face "
        f"cache, {cache_dir()}), or pass a local folder saved with save_pretrained as {option}"
    )


def cache_dir() -> Path:
    """The Hugging Face hub cache that transformers and huggingface_hub share."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def cached_snapshot(name: str, revision: str | None = None) -> Path | None:
    """The cached snapshot folder of a hub model, or None when it is not fully cached."""
    from huggingface_hub import snapshot_download

    try:
        folder = Path(snapshot_download(name, revision=revision, local_files_only=True))
    except Exception:  # any hub-client failure means "not usable offline"
        return None
    return folder if (folder / "config.json").is_file() else None


def offline() -> bool:
    """True when the user asked for no network (the standard Hugging Face switches)."""
    return any(
        os.environ.get(v, "").lower() in {"1", "true", "yes"} for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy")


def hub_reachable(timeout: float = 3.0) -> bool:
    """A quick TCP check of the hub endpoint, so an offline machine fails in seconds, not after retries.

    Behind a proxy a direct connection proves nothing, so the check is left to the hub client there.
    """
    from huggingface_hub import constants

    if any(os.environ.get(v) for v in PROXY_VARS):
        return True

    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def download(name: str, revision: str | None = None, *, option: str = "--model") -> Path:
    """Fetch a hub model's loadable files into the cache and return the snapshot folder."""
    from huggingface_hub import snapshot_download

    if offline():
        raise ModelNotAvailableError(
            f"model '{name}' is not in the local cache and HF_HUB_OFFLINE is set; {_how_to_get(name, option)}"
        )
    if not hub_reachable():
        raise ModelNotAvailableError(
            f"model '{name}' is not in the local cache and the Hugging Face hub cannot be reached; "
            f"{_how_to_get(name, option)}"
        )
    try:
        folder = Path(snapshot_download(name, revision=revision, allow_patterns=SIDE_PATTERNS + WEIGHT_PATTERNS))
        if not any(folder.glob("model*.safetensors")):
            patterns = SIDE_PATTERNS + LEGACY_WEIGHT_PATTERNS
            folder = Path(snapshot_download(name, revision=revision, allow_patterns=patterns))
    except Exception as exc:  # the hub client raises many types; the user needs one message
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        how = _how_to_get(name, option)
        raise ModelNotAvailableError(f"could not download model '{name}': {reason}; {how}") from exc
    return folder


def model_folder(
    name: str, *, allow_download: bool = True, revision: str | None = None, option: str = "--model"
) -> Path:
    """The folder holding ``name``'s files: a local path, the cache, or a fresh download.

    ``revision`` defaults to the registry's (e.g. DETR's ``no_timm`` branch, whose ResNet backbone is
    transformers' own rather than timm's, which would need torchvision). ``option`` is the command-line
    option that takes this model, named in the error. Loaders call this before importing torch or
    transformers, so a missing model is reported in a fraction of a second, not after the libraries load.
    """
    from clipaware.models.registry import REGISTRY, bundled_folder

    shipped = bundled_folder(name)
    if shipped is not None:
        return shipped
    if revision is None:
        spec = REGISTRY.get(name)
        revision = spec.revision if spec else None
    if is_local_reference(name):
        folder = Path(name).expanduser()
        if not (folder / "config.json").is_file():
            raise ModelNotAvailableError(
                f"'{name}' is not a model folder (no config.json there); pass a folder written by "
                f"save_pretrained as {option}, or a hub name"
            )
        return folder
    cached = cached_snapshot(name, revision)
    if cached is not None:
        return cached
    if not allow_download:
        raise ModelNotAvailableError(f"model '{name}' is not in the local cache; {_how_to_get(name, option)}")
    return download(name, revision, option=option)
