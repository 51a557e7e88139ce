"""The shapes world: synthetic scenes with exact ground truth (``scenes``), alt-text captions to train a small
CLIP on (``captions``), probes per CLIP limitation (``probes``), that CLIP (``shapes_clip/``) and a classical
detector (``detect``).

It is a measuring instrument and a test fixture, not the product: everything here goes through the same
public interfaces as real models (``ClipModel.load``, the Detector protocol).
"""

from __future__ import annotations

from pathlib import Path

# The trained shapes CLIP ships inside the package and loads like a hub snapshot:
# ``ClipModel.load(SHAPES_CLIP_PATH)``. Rebuild it with ``scripts/train_shapes_clip.py``.
SHAPES_CLIP_PATH: Path = Path(__file__).resolve().parent / "shapes_clip"

__all__ = ["SHAPES_CLIP_PATH"]
