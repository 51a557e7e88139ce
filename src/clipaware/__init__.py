"""clipaware: image-text matching with CLIP-family models that knows when CLIP is the wrong tool."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["ClipModel", "__version__"]

if TYPE_CHECKING:
    from clipaware.models.clip import ClipModel


def __getattr__(name: str) -> Any:
    # Lazy so that `clipaware check` and `--help` never pay for importing torch.
    if name == "ClipModel":
        from clipaware.models.clip import ClipModel

        return ClipModel
    raise AttributeError(name)
