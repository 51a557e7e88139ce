"""Fine-grained identification: which labelled identity or class does a photo match?

The route CLIP cannot take: DINOv2 features of the photo are compared with a gallery the user labels
(one sub-folder per identity or class) and the label comes from a similarity-weighted vote of the k
nearest gallery images (weights exp(cos / 0.07), the DINO k-NN rule). The answer carries the nearest
images as evidence, so a person can see why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from clipaware.errors import ImageLoadError, UsageError
from clipaware.images import IMAGE_SUFFIXES, ImageSource, Skipped
from clipaware.models.features import FeatureModel
from clipaware.query import QueryAnalysis
from clipaware.routes.base import Refs, RouteAnswer, Step, Toolkit

VOTE_TEMPERATURE = 0.07
GALLERY_HELP = (
    "give --gallery DIR with one sub-folder per identity or class, named by its label, holding a few "
    "(ideally 5-20) photos of it: e.g. DIR/alice/*.jpg, DIR/bob/*.jpg"
)


@dataclass(frozen=True)
class Gallery:
    """Labelled reference images and their features."""

    labels: tuple[str, ...]
    paths: tuple[str, ...]
    vectors: np.ndarray
    skipped: tuple[Skipped, ...]

    @property
    def identities(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.labels)))


@dataclass(frozen=True)
class Neighbour:
    path: str
    label: str
    similarity: float

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "label": self.label, "similarity": round(self.similarity, 4)}


@dataclass(frozen=True)
class IdentifyAnswer:
    """The voted label, its share of the vote, and the nearest gallery images behind it."""

    label: str
    score: float
    similarity: float
    neighbours: tuple[Neighbour, ...]
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "score": round(self.score, 4),
            "similarity": round(self.similarity, 4),
            "neighbours": [n.to_dict() for n in self.neighbours],
            "note": self.note,
        }


def build_gallery(folder: str | Path, model: FeatureModel) -> Gallery:
    """Embed every image under ``folder/<label>/``; unreadable images are reported, not fatal."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise UsageError(f"gallery {folder} is not a folder; {GALLERY_HELP}")
    labels, paths = [], []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(sub.rglob("*")):
            if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith("."):
                labels.append(sub.name)
                paths.append(path)
    if not paths:
        raise UsageError(f"gallery {folder} has no labelled images; {GALLERY_HELP}")
    vectors, kept_labels, kept_paths, skipped = [], [], [], []
    for label, path in zip(labels, paths, strict=True):
        try:
            vectors.append(model.encode_images([path])[0])
        except ImageLoadError as exc:
            skipped.append(Skipped(str(path), exc.reason))
            continue
        kept_labels.append(label)
        kept_paths.append(str(path))
    if not vectors:
        raise UsageError(f"no image in gallery {folder} could be read; {GALLERY_HELP}")
    return Gallery(tuple(kept_labels), tuple(kept_paths), np.stack(vectors), tuple(skipped))


def identify(image: ImageSource, gallery: Gallery, model: FeatureModel, k: int = 5) -> IdentifyAnswer:
    """Label ``image`` by a similarity-weighted vote of its ``k`` nearest gallery images."""
    query = model.encode_images([image])[0]
    sims = gallery.vectors @ query
    k = max(1, min(k, len(sims)))
    nearest = np.argsort(-sims, kind="stable")[:k]
    votes: dict[str, float] = {}
    for i in nearest:
        votes[gallery.labels[i]] = votes.get(gallery.labels[i], 0.0) + float(np.exp(sims[i] / VOTE_TEMPERATURE))
    label = max(votes, key=votes.__getitem__)
    neighbours = tuple(Neighbour(gallery.paths[i], gallery.labels[i], float(sims[i])) for i in nearest)
    best = max(float(sims[i]) for i in nearest if gallery.labels[i] == label)
    note = ""
    if len(gallery.identities) == 1:
        note = "the gallery holds one identity, so the vote cannot pick between identities: judge by similarity"
    elif len(gallery.paths) < 2 * len(gallery.identities):
        note = "few gallery images per identity: add more photos of each for a reliable vote"
    return IdentifyAnswer(label, votes[label] / sum(votes.values()), best, neighbours, note)


class IdentifyRoute:
    """ "Barack Obama giving a speech", "who is this?": a k-NN vote over a gallery the user labels.

    Without a gallery the step answers "can't tell" and says what to provide.
    """

    name = "identify"

    def plan(self, analysis: QueryAnalysis, refs: Refs, planned: Sequence[Step]) -> list[Step]:
        return [
            Step(self.name, {"entity": entity.text, "type": entity.type}, entity.text)
            for entity in analysis.parse.entities
            if entity.fine_grained
        ]

    def run(self, step: Step, image: Image.Image, kit: Toolkit) -> RouteAnswer:
        if kit.gallery_dir is None:
            reason = f"'{step.args['entity']}' is a fine-grained identity that CLIP cannot verify; {GALLERY_HELP}"
            return RouteAnswer(self.name, step.text, None, {"reason": reason}, ())
        features, gallery = kit.gallery()
        result = identify(image, gallery, features)
        asked = step.args["entity"].lower()
        label = result.label.lower().replace("_", " ")
        # "who is this?" is answered by the label; a named identity by whether the label is it
        answer: bool | str = result.label if step.args["type"] == "identify" else label in asked or asked in label
        return RouteAnswer(self.name, step.text, answer, result.to_dict(), (features.name,), result)
