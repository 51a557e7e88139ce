"""Prompt templates and generic captions shared by zero-shot tasks.

A bare label ("dog") is a poor text query for CLIP, which was trained on sentences. The CLIP paper's
prompt ensembling embeds each label in several templates and averages the unit vectors (then
re-normalises), which gains a few points of zero-shot accuracy. Generic captions describe "some image"
without naming anything: they are the background a label must beat.
"""

from __future__ import annotations

TEMPLATES: tuple[str, ...] = (
    "a photo of a {}.",
    "a blurry photo of a {}.",
    "a close-up photo of a {}.",
    "a bright photo of a {}.",
    "a dark photo of a {}.",
    "a cropped photo of a {}.",
    "a photo of the large {}.",
    "a photo of the small {}.",
    "a drawing of a {}.",
    "a painting of the {}.",
    "a rendering of a {}.",
    "a good photo of the {}.",
)

GENERIC_CAPTIONS: tuple[str, ...] = (
    "a photo.",
    "an image.",
    "a picture of something.",
    "a photo of an object.",
    "a photo of a scene.",
    "a close-up photo.",
    "a blurry photo.",
    "a good photo.",
)
