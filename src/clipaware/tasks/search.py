"""Search an index by text or by image, and find images similar to one image.

Vectors are unit length, so cosine similarity is a dot product. The store decides how to find the top
``k``: the SQLite index scans exactly below a size threshold and asks its ANN above it (re-scoring the
candidates exactly), Milvus uses its own index; ``exact=True`` forces a full scan. Filters (path glob,
folder, date taken, mtime, pixel size) are applied inside the search, not after it, so they cost no
recall. The query is encoded with the opened library's model, which is the one the index was built with.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from clipaware.errors import UsageError
from clipaware.images import ImageSource
from clipaware.index.filters import Filters
from clipaware.tasks.results import Hit

if TYPE_CHECKING:
    from clipaware.library import Library


def top_k(matrix: np.ndarray, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Indices and scores of the ``k`` rows of ``matrix`` most similar to ``query``, best first."""
    if matrix.shape[0] == 0 or k <= 0:
        return []
    scores = matrix @ np.asarray(query, dtype=np.float32).reshape(-1)
    k = min(k, scores.shape[0])
    picked = np.argpartition(-scores, k - 1)[:k]
    picked = picked[np.lexsort((picked, -scores[picked]))]  # by score, ties by insertion order
    return [(int(i), float(scores[i])) for i in picked]


def image_vector(library: Library, image: ImageSource) -> np.ndarray:
    """The stored vector of an indexed, unchanged file; otherwise the image is embedded now."""
    index = library.store
    if isinstance(image, (str, Path)):
        path = Path(image).expanduser().resolve()
        record = index.file_facts(str(path))
        if record is not None and path.is_file():
            st = path.stat()
            if (st.st_size, st.st_mtime_ns) == (record.size, record.mtime_ns):
                stored = index.embedding_for_path(str(path))
                if stored is not None:
                    return stored
        image = path
    return library.model.encode_images([image])[0]


def search(
    library: Library,
    *,
    text: str | None = None,
    image: ImageSource | None = None,
    k: int = 10,
    exclude: frozenset[str] = frozenset(),
    filters: Filters | None = None,
    exact: bool | None = None,
) -> list[Hit]:
    """Rank the index against a text or an image query (exactly one of them), among ``filters``."""
    if (text is None) == (image is None):
        raise UsageError("search needs a text query or --image FILE (one of them)")
    if k < 1:
        raise UsageError("-k must be at least 1")
    if text is not None:
        if not text.strip():
            raise UsageError("the search text is empty")
        query = library.model.encode_texts([text])[0]
    else:
        query = image_vector(library, image)  # type: ignore[arg-type]
    hits = library.store.search(query, k + len(exclude), filters, exact=exact)
    return [Hit(p, s) for p, s in hits if p not in exclude][:k]


def similar(
    library: Library,
    image: str | Path,
    *,
    k: int = 10,
    filters: Filters | None = None,
    exact: bool | None = None,
) -> list[Hit]:
    """Images most like ``image``, the image itself left out."""
    path = str(Path(image).expanduser().resolve())
    return search(library, image=image, k=k, exclude=frozenset({path}), filters=filters, exact=exact)
