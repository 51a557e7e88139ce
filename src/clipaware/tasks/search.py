"""Search an index by text or by image, and find images similar to one image (exact cosine search).

Vectors are unit length, so cosine similarity is a dot product; the top ``k`` come from
``argpartition`` (linear time) and only those are sorted. The query is encoded with the model the
index was built with, whatever the caller would otherwise default to.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clipaware.errors import UsageError
from clipaware.images import ImageSource
from clipaware.index.sqlite import ImageIndex
from clipaware.models.clip import ClipModel
from clipaware.models.hub import canonical_model_name
from clipaware.tasks.results import Hit


def top_k(matrix: np.ndarray, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Indices and scores of the ``k`` rows of ``matrix`` most similar to ``query``, best first."""
    if matrix.shape[0] == 0 or k <= 0:
        return []
    scores = matrix @ np.asarray(query, dtype=np.float32).reshape(-1)
    k = min(k, scores.shape[0])
    picked = np.argpartition(-scores, k - 1)[:k]
    picked = picked[np.lexsort((picked, -scores[picked]))]  # by score, ties by insertion order
    return [(int(i), float(scores[i])) for i in picked]


def model_for(index: ImageIndex, model: str | None = None) -> ClipModel:
    """The index's own model; a different explicitly requested one is refused."""
    if model:
        index.require_model(canonical_model_name(model))
    return ClipModel.load(index.model_name)


def image_vector(index: ImageIndex, image: ImageSource, model: str | None = None) -> np.ndarray:
    """The stored vector of an indexed, unchanged file; otherwise the image is embedded now."""
    if isinstance(image, (str, Path)):
        path = Path(image).expanduser().resolve()
        files = index.files()
        record = files.get(str(path))
        if record is not None and path.is_file():
            st = path.stat()
            if (st.st_size, st.st_mtime_ns) == (record.size, record.mtime_ns):
                stored = index.embedding_for_path(str(path))
                if stored is not None:
                    return stored
        image = path
    return model_for(index, model).encode_images([image])[0]


def search(
    index: ImageIndex,
    *,
    text: str | None = None,
    image: ImageSource | None = None,
    k: int = 10,
    model: str | None = None,
    exclude: frozenset[str] = frozenset(),
) -> list[Hit]:
    """Rank the index against a text or an image query (exactly one of them)."""
    if (text is None) == (image is None):
        raise UsageError("search needs a text query or --image FILE (one of them)")
    if k < 1:
        raise UsageError("-k must be at least 1")
    if text is not None:
        if not text.strip():
            raise UsageError("the search text is empty")
        query = model_for(index, model).encode_texts([text])[0]
    else:
        query = image_vector(index, image, model)  # type: ignore[arg-type]
    paths, matrix = index.matrix()
    hits = top_k(matrix, query, k + len(exclude))
    return [Hit(paths[i], s) for i, s in hits if paths[i] not in exclude][:k]


def similar(index: ImageIndex, image: str | Path, *, k: int = 10, model: str | None = None) -> list[Hit]:
    """Images most like ``image``, the image itself left out."""
    path = str(Path(image).expanduser().resolve())
    return search(index, image=image, k=k, model=model, exclude=frozenset({path}))
