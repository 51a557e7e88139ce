"""Small previews an MCP client may ask for: an agent that can see images can check a hit or an answer's boxes.

Thumbnails are JPEG, at most :data:`THUMBNAIL_SIZE` pixels on the long side, so a page of hits costs a few
kilobytes each; they are only made when the caller asks (``thumbnails=true``), never by default.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

from mcp.types import ImageContent

from clipaware.images import load_image
from clipaware.render import draw_boxes

THUMBNAIL_SIZE = 160
MAX_THUMBNAILS = 10  # a page of hits; more would crowd the agent's context for little gain


def _encoded(image: Any) -> ImageContent:
    image = image.copy()
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return ImageContent(type="image", data=base64.b64encode(buffer.getvalue()).decode("ascii"), mime_type="image/jpeg")


def thumbnail(path: str) -> ImageContent:
    """A small preview of the image at ``path`` (already checked against the roots by the caller)."""
    return _encoded(load_image(path, THUMBNAIL_SIZE * 2))


def _boxes(evidence: Any) -> Iterator[tuple[str, list[float]]]:
    """Every ``{"label", "box"}`` found anywhere in an answer's evidence (counted, found, pair, …)."""
    if isinstance(evidence, dict):
        box = evidence.get("box")
        if isinstance(box, (list, tuple)) and len(box) == 4:
            yield str(evidence.get("label", "")), [float(v) for v in box]
        for value in evidence.values():
            yield from _boxes(value)
    elif isinstance(evidence, (list, tuple)):
        for value in evidence:
            yield from _boxes(value)


def boxes_thumbnail(path: str, evidence: Any) -> ImageContent:
    """The image with the boxes an answer rests on drawn over it (full resolution, then shrunk)."""
    return _encoded(draw_boxes(load_image(path), list(_boxes(evidence))))
