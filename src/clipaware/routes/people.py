"""Faces as a route: is a named person in this photo, and how many faces does it hold (dlib, not CLIP).

CLIP cannot tell one person from another; face descriptors can. These answer ``ask``'s identity and face
counting steps for an index whose faces were found (``clipaware index --faces``) and named
(``clipaware people name``); the people's names, merges and searches over the index are in
:mod:`clipaware.tasks.people`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from clipaware.errors import IndexUnavailableError, UnknownPersonError
from clipaware.index.people import PeopleStore
from clipaware.lazy import Lazy
from clipaware.models.faces import SAME_PERSON_DISTANCE, FaceModel, distances
from clipaware.routes.base import satisfies


@dataclass(frozen=True)
class PersonMatch:
    """Is this person in this image: yes / no / None (can't tell), with the closest face as evidence."""

    person: str
    answer: bool | None
    distance: float | None  # nearest descriptor distance between a face here and one of theirs
    box: tuple[int, int, int, int] | None
    threshold: float
    faces_found: int
    small_faces: int
    reason: str
    model: str

    def to_dict(self) -> dict[str, object]:
        return {
            "person": self.person,
            "distance": None if self.distance is None else round(self.distance, 4),
            "box": list(self.box) if self.box else None,
            "threshold": self.threshold,
            "faces_found": self.faces_found,
            "small_faces": self.small_faces,
            "reason": self.reason,
        }


class PeopleContext:
    """An index's people and the face model to read a new photo with, both opened on first need.

    ``ask`` holds one in its toolkit: a question that names nobody never opens the index or loads dlib.
    """

    def __init__(self, people: Callable[[], PeopleStore | None], load_model: Callable[[str], FaceModel]) -> None:
        self._people: Lazy[PeopleStore | None] = Lazy(people)
        self._load_model = load_model
        self._model: Lazy[FaceModel] = Lazy(lambda: self._load_model(self._detector()))
        self.threshold = SAME_PERSON_DISTANCE

    def _detector(self) -> str:
        people = self.people
        return (people.face_detector() if people is not None else None) or "hog"

    @property
    def people(self) -> PeopleStore | None:
        """The index's people; None when there is no index or it never had faces turned on."""
        return self._people.get()

    @property
    def model(self) -> FaceModel:
        return self._model.get()

    @classmethod
    def for_location(cls, location: str | Path | None, load_model: Callable[[str], FaceModel]) -> PeopleContext:
        """The people of the index at ``location`` (default: the nearest ``.clipaware.db``), if it has any."""

        def open_people() -> PeopleStore | None:
            from clipaware.index.stores import open_store

            try:
                store = open_store(location)
            except IndexUnavailableError:
                if location is None:
                    return None  # no index here at all: the identity route explains the alternatives
                raise
            people = getattr(store, "people", None)
            if not isinstance(people, PeopleStore) or (people.face_detector() is None and not people.people()):
                return None
            return people

        return cls(open_people, load_model)

    @classmethod
    def of_store(cls, store: Callable[[], Any], load_model: Callable[[str], FaceModel]) -> PeopleContext:
        """The people of an opened store (``store()`` is called on first need), if it keeps any."""

        def people() -> PeopleStore | None:
            found = getattr(store(), "people", None)
            if not isinstance(found, PeopleStore) or (found.face_detector() is None and not found.people()):
                return None
            return found

        return cls(people, load_model)


def person_in_image(image: Image.Image, name: str, context: PeopleContext) -> PersonMatch | None:
    """Whether the person called ``name`` is in ``image``, from face descriptors.

    None when the context has no people at all (the caller explains its other routes); an unknown name
    raises :class:`UnknownPersonError`. Yes when a face here is within the threshold of one of theirs;
    no when every face here is farther and none was too small to judge; can't tell otherwise.
    """
    people = context.people
    if people is None:
        return None
    row = people.person_named(name)
    if row is None:
        raise UnknownPersonError(name)
    theirs = people.faces(person_id=row.id)
    model = context.model
    label = row.name or name
    if not theirs:
        return PersonMatch(label, None, None, None, context.threshold, 0, 0,
                           f"{label} has no faces left in the index (forgotten or removed)", model.name)  # fmt: skip
    scan = model.scan(image)
    if not scan.faces:
        reason = "no face found" + (f" ({scan.small} too small to recognise)" if scan.small else "")
        return PersonMatch(label, None, None, None, context.threshold, 0, scan.small, reason, model.name)
    dist = distances(np.stack([f.descriptor for f in scan.faces]), people.descriptors([f.id for f in theirs]))
    nearest = dist.min(axis=1)
    best = int(np.argmin(nearest))
    distance = float(nearest[best])
    box = scan.faces[best].box
    if distance <= context.threshold:
        answer: bool | None = True
        reason = f"a face is {distance:.3f} from {label}'s nearest face (same person below {context.threshold})"
    elif scan.small:
        answer = None
        reason = f"no face here is {label} (nearest {distance:.3f}), but {scan.small} face(s) were too small to judge"
    else:
        answer = False
        reason = f"nearest face is {distance:.3f} from {label}'s (same person below {context.threshold})"
    return PersonMatch(label, answer, distance, box, context.threshold, len(scan.faces), scan.small, reason, model.name)


@dataclass(frozen=True)
class FaceCount:
    """Faces in one image by the face detector: described ones plus those too small to describe."""

    count: int
    described: tuple[tuple[int, int, int, int], ...]
    small: int
    op: str
    value: int | None
    holds: bool | None
    model: str

    def to_dict(self) -> dict[str, object]:
        return {"target": "face", "count": self.count, "op": self.op, "value": self.value, "holds": self.holds,
                "boxes": [list(b) for b in self.described], "small_faces": self.small}  # fmt: skip


def count_faces(
    image: Image.Image, context: PeopleContext | None, op: str, value: int | None, *, only_with_faces: bool = False
) -> FaceCount | None:
    """How many faces ``image`` holds (dlib), or None when the face models are not installed here.

    ``only_with_faces``: None also unless the context's index has faces on (a second opinion that costs
    a detector pass per image is only paid by those who asked for faces).
    """
    from clipaware.models.faces import faces_available

    if context is None or faces_available() is not None or (only_with_faces and context.people is None):
        return None
    model = context.model
    scan = model.scan(image)
    count = len(scan.faces) + scan.small
    boxes = tuple(f.box for f in scan.faces)
    return FaceCount(count, boxes, scan.small, op, value, satisfies(count, op, value), f"dlib {model.detector}")
