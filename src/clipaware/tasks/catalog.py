"""The model guide (``clipaware models``) and fetching models (``clipaware models pull``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clipaware.models.hub import cached_snapshot, download, is_local_reference, model_folder
from clipaware.models.registry import REGISTRY, ModelSpec, bundled_folder, default_model_name


@dataclass(frozen=True)
class ModelEntry:
    """A registry entry plus whether its files are already on this machine."""

    spec: ModelSpec
    cached: bool
    default: bool

    def to_dict(self) -> dict[str, object]:
        return {**self.spec.to_dict(), "cached": self.cached, "default": self.default}


def is_cached(spec: ModelSpec) -> bool:
    """Whether a registry model is usable offline: shipped in the package, or cached at the revision it loads
    (DETR loads its ``no_timm`` branch; its ``main`` being absent does not make it missing)."""
    return spec.bundled or cached_snapshot(spec.name, spec.revision) is not None


def list_models(default: str | None = None) -> list[ModelEntry]:
    """Every registry model, with its local cache state (no network); ``default`` is the one commands use."""
    default = default or default_model_name()
    return [ModelEntry(spec, is_cached(spec), name == default) for name, spec in REGISTRY.items()]


def pull_model(name: str) -> Path:
    """Make ``name`` available offline: a no-op when cached, otherwise a download into the HF cache."""
    if is_local_reference(name) or bundled_folder(name) is not None:
        return model_folder(name)
    spec = REGISTRY.get(name)
    revision = spec.revision if spec else None
    return cached_snapshot(name, revision) or download(name, revision)
