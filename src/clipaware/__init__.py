"""clipaware: image-text matching with CLIP-family models that knows when CLIP is the wrong tool.

The public face, small and lazy (``import clipaware`` imports no torch; each name loads its module on
first use)::

    import clipaware

    with clipaware.open_library("photos/.clipaware.db", create=True) as library:  # store + its model
        clipaware.index_paths(library, ["photos"])
        hits = clipaware.search(library, text="a beach at sunset", k=5)
        answer = clipaware.ask("photos/dogs.jpg", "how many dogs?", kit=library.toolkit())
    clipaware.analyze("three dogs left of a car").limitations  # text only, no model

``ClipModel.load(name, runtime=…, precision=…)`` loads a model on its own; ``Library`` is the opened library's
class (``Library.open`` is ``open_library``); ``Toolkit`` holds ``ask``'s models. Indexing is
``index_paths``: ``clipaware.index`` is the package of stores.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name → (module, attribute in it)
_PUBLIC = {
    "ClipModel": ("clipaware.models.clip", "ClipModel"),
    "Library": ("clipaware.library", "Library"),
    "open_library": ("clipaware.library", "open_library"),
    "Toolkit": ("clipaware.tasks.ask", "Toolkit"),
    "index_paths": ("clipaware.tasks.indexing", "index_paths"),
    "search": ("clipaware.tasks.search", "search"),
    "similar": ("clipaware.tasks.search", "similar"),
    "ask": ("clipaware.tasks.ask", "ask"),
    "analyze": ("clipaware.query.analyze", "analyze"),
}
__all__ = [
    "ClipModel",
    "Library",
    "Toolkit",
    "__version__",
    "analyze",
    "ask",
    "index_paths",
    "open_library",
    "search",
    "similar",
]

if TYPE_CHECKING:
    from clipaware.library import Library, open_library
    from clipaware.models.clip import ClipModel
    from clipaware.query.analyze import analyze
    from clipaware.tasks.ask import Toolkit, ask
    from clipaware.tasks.indexing import index_paths
    from clipaware.tasks.search import search, similar


def __getattr__(name: str) -> Any:
    # Lazy so that `clipaware check` and `--help` never pay for importing torch.
    if name not in _PUBLIC:
        raise AttributeError(f"module 'clipaware' has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
