"""A labelled face set built only from the photos scikit-image ships (no downloads, no drawn faces).

Honest about its size: scikit-image holds two real photos of identifiable people, ``astronaut`` (Eileen
Collins, NASA portrait, 512 x 512) and ``camera`` (the "cameraman", 512 x 512 greyscale, a small face in
three-quarter view), plus ``lfw_subset``: 100 real faces from Labeled Faces in the Wild cut to 25 x 25
pixels (identities not labelled, far below any detector's size: used only for different-person
descriptor distances, from their known boxes). Everything else here is derived: crops, scales,
rotations, brightness, JPEG quality, a mirror and a grey copy of the two portraits, and real photos
without faces (cat, coffee, rocket, horse, motorbike, textures, text, a telescope field, and the
astronaut with her face covered) as negatives. 29 face photos of 2 people, 14 negatives.

The face boxes below were read off the originals (the astronaut's from dlib's HOG box, the
cameraman's from dlib's CNN box) and are moved with each transform.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

Box = tuple[int, int, int, int]

ASTRONAUT = "eileen_collins"
CAMERAMAN = "cameraman"
ASTRONAUT_FACE: Box = (170, 70, 270, 172)
CAMERAMAN_FACE: Box = (186, 112, 260, 190)


@dataclass(frozen=True)
class FacePhoto:
    """One labelled image: whose face it shows (None: nobody's) and where."""

    name: str
    image: Image.Image
    person: str | None
    box: Box | None

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "person": self.person, "box": list(self.box) if self.box else None,
                "size": list(self.image.size)}  # fmt: skip


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _crop(box: Box, area: Box) -> Box:
    return (box[0] - area[0], box[1] - area[1], box[2] - area[0], box[3] - area[1])


def _scale(box: Box, factor: float) -> Box:
    return tuple(round(v * factor) for v in box)  # type: ignore[return-value]


def _rotate(box: Box, degrees: float, size: tuple[int, int]) -> Box:
    """The box around the rotated corners (PIL rotates counter-clockwise about the centre)."""
    cx, cy = size[0] / 2, size[1] / 2
    angle = math.radians(degrees)
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])):
        dx, dy = x - cx, y - cy
        xs.append(cx + dx * math.cos(angle) + dy * math.sin(angle))
        ys.append(cy - dx * math.sin(angle) + dy * math.cos(angle))
    return (round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys)))


def _variants(stem: str, image: Image.Image, person: str, box: Box, *, full: bool) -> list[FacePhoto]:
    out = [FacePhoto(f"{stem}/original", image, person, box)]
    w, h = image.size
    crops = [(80, 0, 380, 300), (120, 30, 320, 230), (0, 0, 340, 340), (100, 40, w, h)] if full else []
    for area in crops:
        out.append(FacePhoto(f"{stem}/crop{area}", image.crop(area), person, _crop(box, area)))
    for factor in (0.5, 0.75, 1.5, 2.0) if full else (1.5, 2.0):
        size = (round(w * factor), round(h * factor))
        out.append(FacePhoto(f"{stem}/scale{factor}", image.resize(size, Image.Resampling.LANCZOS), person,
                             _scale(box, factor)))  # fmt: skip
    for degrees in (-20, -10, 10, 20) if full else ():
        rotated = image.rotate(degrees, Image.Resampling.BICUBIC, fillcolor=(128, 128, 128))
        out.append(FacePhoto(f"{stem}/rotate{degrees:+d}", rotated, person, _rotate(box, degrees, image.size)))
    for factor in (0.5, 0.75, 1.3, 1.6) if full else (1.3,):
        out.append(FacePhoto(f"{stem}/brightness{factor}", ImageEnhance.Brightness(image).enhance(factor), person, box))
    for quality in (95, 50, 20, 10) if full else (30,):
        out.append(FacePhoto(f"{stem}/jpeg{quality}", _jpeg(image, quality), person, box))
    out.append(FacePhoto(f"{stem}/mirror", ImageOps.mirror(image), person, (w - box[2], box[1], w - box[0], box[3])))
    if full:
        out.append(FacePhoto(f"{stem}/grey", ImageOps.grayscale(image).convert("RGB"), person, box))
    return out


def _rgb(array: np.ndarray) -> Image.Image:
    return Image.fromarray(np.asarray(array)).convert("RGB")


def negatives() -> list[FacePhoto]:
    """Real photos (and textures, text, a star field) in which there is no face."""
    from skimage import data

    loaders: dict[str, Callable[[], np.ndarray]] = {
        "chelsea": data.chelsea, "coffee": data.coffee, "rocket": data.rocket, "horse": data.horse,
        "motorcycle": lambda: data.stereo_motorcycle()[0], "brick": data.brick, "grass": data.grass,
        "gravel": data.gravel, "coins": data.coins, "moon": data.moon, "page": data.page, "text": data.text,
        "hubble": data.hubble_deep_field,
    }  # fmt: skip
    out = []
    for name, load in loaders.items():
        array = np.asarray(load())
        if array.dtype == bool:  # horse is a silhouette mask
            array = np.where(array, 255, 0).astype(np.uint8)
        out.append(FacePhoto(f"negative/{name}", _rgb(array), None, None))
    covered = _rgb(data.astronaut())
    covered.paste((128, 128, 128), (150, 50, 290, 200))  # the face hidden: a portrait with nobody to find
    out.append(FacePhoto("negative/astronaut_face_covered", covered, None, None))
    return out


def face_set() -> list[FacePhoto]:
    """The labelled set: 23 astronaut variants, 6 cameraman variants, 14 negatives (43 images)."""
    from skimage import data

    return (
        _variants("astronaut", _rgb(data.astronaut()), ASTRONAUT, ASTRONAUT_FACE, full=True)
        + _variants("camera", _rgb(data.camera()), CAMERAMAN, CAMERAMAN_FACE, full=False)
        + negatives()
    )


def lfw_faces() -> list[Image.Image]:
    """scikit-image's 100 real LFW faces (25 x 25, tight crops), as RGB images scaled to 150 x 150."""
    from skimage import data

    faces = np.asarray(data.lfw_subset())[:100]
    return [_rgb((f * 255).round().astype(np.uint8)).resize((150, 150), Image.Resampling.BICUBIC) for f in faces]


def matches(found: Box, truth: Box, min_iou: float = 0.3) -> bool:
    """A detection counts as the labelled face when the boxes overlap by ``min_iou`` (dlib's boxes are
    tighter than a hand-drawn one, so a lenient overlap) and its centre lies inside the label."""
    ix = max(0, min(found[2], truth[2]) - max(found[0], truth[0]))
    iy = max(0, min(found[3], truth[3]) - max(found[1], truth[1]))
    inter = ix * iy
    union = (found[2] - found[0]) * (found[3] - found[1]) + (truth[2] - truth[0]) * (truth[3] - truth[1]) - inter
    cx, cy = (found[0] + found[2]) / 2, (found[1] + found[3]) / 2
    inside = truth[0] <= cx <= truth[2] and truth[1] <= cy <= truth[3]
    return union > 0 and inter / union >= min_iou and inside
