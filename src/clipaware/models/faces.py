"""Faces: dlib's trained detector, landmarks and 128-d descriptor behind one small protocol.

CLIP cannot tell Alice from Bob (it was never trained to separate identities), so people are found and
compared with a model that was: dlib's ResNet face descriptor (``dlib_face_recognition_resnet_model_v1``,
99.38 % on the LFW verification benchmark as published by dlib, with two faces the same person when their
descriptors are closer than 0.6). The weights ship on PyPI in ``face_recognition_models`` and the code in
``dlib-bin`` (``pip install 'clipaware[faces]'``); nothing is downloaded at run time.

Each face goes through the same steps, in the transformers order preprocess → forward → postprocess:
the image is decoded upright and scaled so its long side is at most :data:`MAX_SIDE`; a detector finds
face boxes (``hog``: dlib's HOG + linear SVM, frontal faces, fast on CPU; ``cnn``: dlib's MMOD CNN, more
poses, about a hundred times slower on CPU); the 5-point landmark model places eyes and nose; dlib aligns
the face to a 150 x 150 chip from those landmarks and the ResNet turns it into a 128-d descriptor. Boxes
smaller than :data:`MIN_FACE_SIZE` are counted, never described: a descriptor computed from a few dozen
pixels is a guess.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from clipaware.errors import ModelNotAvailableError, UsageError

# dlib's published operating point: descriptors closer than this (Euclidean) are the same person.
SAME_PERSON_DISTANCE = 0.6
# Faces are looked for in the image scaled down so its long side is at most this many pixels.
MAX_SIDE = 1600
# Boxes whose shorter side is below this (pixels, in the image at MAX_SIDE) are skipped and counted.
MIN_FACE_SIZE = 40
DETECTORS = ("hog", "cnn")
DESCRIPTOR_DIM = 128
DESCRIPTOR_MODEL = "dlib_face_recognition_resnet_model_v1"
INSTALL_HINT = "install the face models with `pip install 'clipaware[faces]'` (dlib-bin, face_recognition_models)"

_MODEL_FILES = {
    "landmarks": "shape_predictor_5_face_landmarks.dat",
    "descriptor": "dlib_face_recognition_resnet_model_v1.dat",
    "cnn": "mmod_human_face_detector.dat",
}


@dataclass(frozen=True)
class FoundFace:
    """One face: its box in the original image's pixels, the detector's score and the descriptor."""

    box: tuple[int, int, int, int]  # left, top, right, bottom (original image pixels)
    score: float  # HOG: SVM margin (> 0 found); CNN: MMOD confidence
    descriptor: np.ndarray  # (128,) float32

    def to_dict(self) -> dict[str, object]:
        return {"box": list(self.box), "score": round(self.score, 4)}


@dataclass(frozen=True)
class FaceScan:
    """All faces found in one image, plus how many boxes were too small to describe."""

    faces: tuple[FoundFace, ...]
    small: int
    width: int
    height: int

    def to_dict(self) -> dict[str, object]:
        return {"faces": [f.to_dict() for f in self.faces], "small": self.small}


@runtime_checkable
class FaceModel(Protocol):
    """What the people tasks need: find and describe every face of an image."""

    name: str  # the descriptor model (faces from two descriptor models are not comparable)
    detector: str

    def scan(self, image: Image.Image) -> FaceScan: ...


def models_folder() -> Path:
    """The folder of ``face_recognition_models``' weight files, found without importing the package.

    Importing it runs ``pkg_resources``, which setuptools 81+ no longer ships; the files are plain data.
    """
    try:
        spec = importlib.util.find_spec("face_recognition_models")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        folder = Path(location) / "models"
        if (folder / _MODEL_FILES["descriptor"]).is_file():
            return folder
    raise ModelNotAvailableError(f"the face models are not installed: {INSTALL_HINT}")


def _import_dlib() -> Any:
    try:
        import dlib
    except ImportError:
        raise ModelNotAvailableError(f"dlib is not installed: {INSTALL_HINT}") from None
    return dlib


def faces_available() -> str | None:
    """None when dlib and its face models can be loaded here, else why not (for skips and ``doctor``)."""
    try:
        _import_dlib()
        models_folder()
    except ModelNotAvailableError as exc:
        return str(exc)
    return None


class DlibFaces:
    """dlib's face pipeline: ``hog`` or ``cnn`` detector, 5-point landmarks, ResNet descriptor.

    One instance is safe to share between threads (calls into dlib are serialised: its models keep
    scratch buffers per object).
    """

    name = DESCRIPTOR_MODEL

    def __init__(self, detector: str = "hog", *, folder: Path | None = None, upsample: int | None = None) -> None:
        if detector not in DETECTORS:
            raise UsageError(f"unknown face detector '{detector}': choose one of {', '.join(DETECTORS)}")
        dlib = _import_dlib()
        folder = folder or models_folder()
        for key in ("landmarks", "descriptor") + (("cnn",) if detector == "cnn" else ()):
            if not (folder / _MODEL_FILES[key]).is_file():
                raise ModelNotAvailableError(f"{folder / _MODEL_FILES[key]} is missing: {INSTALL_HINT}")
        self.detector = detector
        # HOG's window is 80 px; one upsampling finds faces down to ~40 px (MIN_FACE_SIZE). The CNN's
        # window is also ~80 px, but upsampling costs it 4x of an already slow pass, so it runs at 1x.
        self.upsample = upsample if upsample is not None else (1 if detector == "hog" else 0)
        self._dlib = dlib
        if detector == "hog":
            self._hog = dlib.get_frontal_face_detector()
        else:
            self._cnn = dlib.cnn_face_detection_model_v1(str(folder / _MODEL_FILES["cnn"]))
        self._landmarks = dlib.shape_predictor(str(folder / _MODEL_FILES["landmarks"]))
        self._descriptor = dlib.face_recognition_model_v1(str(folder / _MODEL_FILES["descriptor"]))
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------- preprocess
    @staticmethod
    def prepare(image: Image.Image) -> tuple[np.ndarray, float]:
        """The RGB pixels dlib sees (long side at most MAX_SIDE) and the factor back to the original."""
        image = image.convert("RGB") if image.mode != "RGB" else image
        long_side = max(image.size)
        if long_side > MAX_SIDE:
            factor = MAX_SIDE / long_side
            size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
            return np.asarray(image.resize(size, Image.Resampling.BILINEAR)), 1 / factor
        return np.asarray(image), 1.0

    # ---------------------------------------------------------------------------------- forward
    def _detect(self, pixels: np.ndarray) -> list[tuple[Any, float]]:
        if self.detector == "hog":
            rects, scores, _ = self._hog.run(pixels, self.upsample, 0.0)
            return list(zip(rects, (float(s) for s in scores), strict=True))
        return [(d.rect, float(d.confidence)) for d in self._cnn(pixels, self.upsample)]

    def scan(self, image: Image.Image) -> FaceScan:
        """Every face of ``image`` (boxes in its own pixels) with descriptors; small ones only counted."""
        pixels, back = self.prepare(image)
        height, width = pixels.shape[:2]
        with self._lock:
            found = self._detect(pixels)
            kept: list[tuple[Any, float]] = []
            small = 0
            for rect, score in found:
                rect = rect.intersect(self._dlib.rectangle(0, 0, width - 1, height - 1))
                if min(rect.width(), rect.height()) < MIN_FACE_SIZE:
                    small += 1
                else:
                    kept.append((rect, score))
            if not kept:
                return FaceScan((), small, image.width, image.height)
            shapes = self._dlib.full_object_detections()
            for rect, _ in kept:
                shapes.append(self._landmarks(pixels, rect))
            descriptors = np.asarray(self._descriptor.compute_face_descriptor(pixels, shapes), dtype=np.float32)
        # ------------------------------------------------------------------------------ postprocess
        faces = []
        for (rect, score), descriptor in zip(kept, descriptors.reshape(len(kept), DESCRIPTOR_DIM), strict=True):
            box = (
                max(0, round(rect.left() * back)),
                max(0, round(rect.top() * back)),
                min(image.width, round((rect.right() + 1) * back)),
                min(image.height, round((rect.bottom() + 1) * back)),
            )
            faces.append(FoundFace(box, score, descriptor))
        faces.sort(key=lambda f: (f.box[0], f.box[1]))  # left to right: a stable order for the same image
        return FaceScan(tuple(faces), small, image.width, image.height)

    def describe_box(self, image: Image.Image, box: tuple[int, int, int, int]) -> np.ndarray:
        """The descriptor of a face at a known ``box`` (for face crops too tight for the detector)."""
        pixels = np.asarray(image.convert("RGB"))
        rect = self._dlib.rectangle(*(int(v) for v in box))
        with self._lock:
            shape = self._landmarks(pixels, rect)
            return np.asarray(self._descriptor.compute_face_descriptor(pixels, shape), dtype=np.float32)


def load_face_model(detector: str = "hog") -> DlibFaces:
    """dlib's face pipeline with ``detector`` (``hog`` or ``cnn``); a clear error when not installed."""
    return DlibFaces(detector)


def distances(descriptors: np.ndarray, to: np.ndarray) -> np.ndarray:
    """Euclidean distances between each row of ``descriptors`` and each row of ``to``: (n, m)."""
    a = np.asarray(descriptors, dtype=np.float32).reshape(-1, DESCRIPTOR_DIM)
    b = np.asarray(to, dtype=np.float32).reshape(-1, DESCRIPTOR_DIM)
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)), np.float32)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(squared, 0))
