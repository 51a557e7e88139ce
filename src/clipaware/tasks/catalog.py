"""The model guide (``clipaware models``) and fetching models (``clipaware models pull``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from clipaware.models.hub import cached_snapshot, download, is_local_reference, model_folder
from clipaware.models.onnx import CachedEngine, cache_name, cached_engines, prune_engines
from clipaware.models.registry import REGISTRY, ModelSpec, bundled_folder, default_model_name


@dataclass(frozen=True)
class ModelEntry:
    """A registry entry plus whether its files are already on this machine."""

    spec: ModelSpec
    cached: bool
    default: bool
    engines: tuple[CachedEngine, ...] = field(default=())  # its exported ONNX engines, ready or stale

    def to_dict(self) -> dict[str, object]:
        engines = [e.to_dict() for e in self.engines]
        return {**self.spec.to_dict(), "cached": self.cached, "default": self.default, "engines": engines}


def is_cached(spec: ModelSpec) -> bool:
    """Whether a registry model is usable offline: shipped in the package, or cached at the revision it loads
    (DETR loads its ``no_timm`` branch; its ``main`` being absent does not make it missing)."""
    return spec.bundled or cached_snapshot(spec.name, spec.revision) is not None


def list_models(default: str | None = None, onnx_cache: str | os.PathLike[str] | None = None) -> list[ModelEntry]:
    """Every registry model, with its local cache state and exported engines (no network); ``default`` is the
    one commands use; ``onnx_cache`` where engines are kept (see :func:`clipaware.models.onnx.onnx_cache_root`)."""
    default = default or default_model_name()
    engines = cached_engines(onnx_cache)
    return [
        ModelEntry(spec, is_cached(spec), name == default, tuple(e for e in engines if e.model == cache_name(name)))
        for name, spec in REGISTRY.items()
    ]


def other_engines(entries: list[ModelEntry], onnx_cache: str | os.PathLike[str] | None = None) -> list[CachedEngine]:
    """Engines in the cache that belong to no registry model (local folders, models loaded by hub name)."""
    listed = {e.path for entry in entries for e in entry.engines}
    return [e for e in cached_engines(onnx_cache) if e.path not in listed]


def prune(onnx_cache: str | os.PathLike[str] | None = None) -> list[CachedEngine]:
    """Remove the engines the installed torch / onnx / onnxruntime would not load (``clipaware models prune``)."""
    return prune_engines(onnx_cache)


def pull_model(name: str) -> Path:
    """Make ``name`` available offline: a no-op when cached, otherwise a download into the HF cache."""
    if is_local_reference(name) or bundled_folder(name) is not None:
        return model_folder(name)
    spec = REGISTRY.get(name)
    revision = spec.revision if spec else None
    return cached_snapshot(name, revision) or download(name, revision)
