"""The face pass of ``index --faces``: find and describe the faces of new content, then group them.

It runs after the image pass, over the images the index holds under the indexed folders, and is
incremental and crash-safe the same way: an image whose content hash already has a scan mark is not
read again; a moved or copied file takes the faces (and people) of its twin without a detector pass;
every image's faces and its scan mark are committed together, so a run killed at any moment loses only
the image it was working on. Faces are read from the full-size file (CLIP's decode is cut to 224 px,
far too small for faces), scaled to at most :data:`~clipaware.models.faces.MAX_SIDE` pixels.

Grouping is incremental too: each new face joins the person owning its nearest grouped face when that
face is closer than the threshold (dlib's published 0.6 by default), never a person already seen in the
same photo, else it starts a new person. Faces already grouped never move, so names survive re-indexing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from clipaware.errors import ImageLoadError, UsageError
from clipaware.images import Skipped, content_hash, decode_image, read_file
from clipaware.index.people import PeopleStore, ScanRecord
from clipaware.models.faces import DESCRIPTOR_DIM, SAME_PERSON_DISTANCE, FaceModel, FaceScan, distances
from clipaware.pipeline import ordered_map
from clipaware.progress import Report

if TYPE_CHECKING:
    from clipaware.index.store import VectorStore


@dataclass(frozen=True)
class GroupReport:
    """What one grouping pass did to the faces that had no person yet."""

    grouped: int
    joined: int  # of those, how many joined an existing person
    new_people: int

    def to_dict(self) -> dict[str, int]:
        return {"grouped": self.grouped, "joined_existing": self.joined, "new_people": self.new_people}


@dataclass(frozen=True)
class FaceIndexReport:
    detector: str
    scanned: int  # images run through the detector this time
    copied: int  # images that took the faces of identical content already scanned
    faces: int  # faces found and described in the scanned images
    small: int  # boxes below MIN_FACE_SIZE, counted and not described
    grouping: GroupReport
    skipped: tuple[Skipped, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "detector": self.detector,
            "scanned": self.scanned,
            "copied": self.copied,
            "faces": self.faces,
            "small_faces_skipped": self.small,
            "grouping": self.grouping.to_dict(),
            "skipped": [s.to_dict() for s in self.skipped],
        }


def people_of(store: VectorStore) -> PeopleStore:
    """The store's faces and people; a clear error for a store that keeps no faces (Milvus)."""
    people = getattr(store, "people", None)
    if not isinstance(people, PeopleStore):
        raise UsageError(
            f"{store.location} keeps image vectors only: faces and people live in the SQLite index "
            f"(index into --db FILE to use --faces)"
        )
    return people


def require_face_model(people: PeopleStore, model: FaceModel) -> None:
    """Descriptors from two face models are not comparable: refuse to mix them in one index."""
    stored = people.face_model()
    if stored and stored != model.name:
        raise UsageError(f"this index holds faces from '{stored}', not '{model.name}'; index into another --db")


@dataclass(frozen=True)
class _Read:
    path: str
    sha256: str
    scan: FaceScan | None
    failure: str | None = None


def index_faces(
    store: VectorStore,
    model: FaceModel,
    paths: Sequence[str],
    *,
    threshold: float = SAME_PERSON_DISTANCE,
    progress: Report | None = None,
    workers: int | None = None,
) -> FaceIndexReport:
    """Scan the faces of the indexed images at ``paths`` whose content has none yet, then group new faces.

    ``paths`` are image paths the store holds (the image pass has just written them). Reading, decoding
    and detection run in worker threads a few images ahead; this thread writes, one image per commit.
    """
    people = people_of(store)
    require_face_model(people, model)
    files = store.files()
    scans = people.scans()
    todo = [(p, files[p].sha256) for p in paths if p in files and scans.get(p) != files[p].sha256]
    copied = scanned = found = small = 0
    skipped: list[Skipped] = []
    need_detector: list[tuple[str, str]] = []
    for path, sha in todo:
        if people.copy_scan(sha, path):
            copied += 1
        else:
            need_detector.append((path, sha))

    def read(item: tuple[str, str]) -> _Read:
        path, sha = item
        try:
            data = read_file(path)
            sha_now = content_hash(data)
            return _Read(path, sha_now, model.scan(decode_image(data, path).image))
        except ImageLoadError as exc:
            return _Read(path, sha, None, f"faces: {exc.reason}")
        except (RuntimeError, ValueError, MemoryError) as exc:  # dlib on pixels it cannot take: skip, never crash
            return _Read(path, sha, None, f"faces: {type(exc).__name__}: {exc}")

    for done, item in enumerate(ordered_map(read, need_detector, workers=workers, ahead=4), 1):
        if item.scan is None:
            skipped.append(Skipped(item.path, item.failure or "faces: unreadable"))
        else:
            people.record_scans([ScanRecord(item.path, item.sha256, item.scan.faces, item.scan.small)], model.name)
            scanned += 1
            found += len(item.scan.faces)
            small += item.scan.small
        if progress:
            progress(done, len(need_detector))
    grouping = group_faces(people, threshold)
    return FaceIndexReport(model.detector, scanned, copied, found, small, grouping, tuple(skipped))


def group_faces(people: PeopleStore, threshold: float = SAME_PERSON_DISTANCE) -> GroupReport:
    """Give every ungrouped face a person (see :func:`assign_people`); grouped faces never move.

    Unnamed people left without faces are dropped.
    """
    new = people.faces(grouped=False)
    joined = created = 0
    if new:
        old = people.faces(grouped=True)
        labels = assign_people(
            people.descriptors([f.id for f in old]),
            [int(f.person_id or 0) for f in old],
            [f.path for f in old],
            people.descriptors([f.id for f in new]),
            [f.path for f in new],
            threshold,
        )
        real: dict[int, int] = {}
        assigned: dict[int, list[int]] = {}
        for face, label in zip(new, labels, strict=True):
            if label < 0 and label not in real:
                real[label] = people.new_person()
                created += 1
            joined += label >= 0
            assigned.setdefault(real.get(label, label), []).append(face.id)
        for person, face_ids in assigned.items():
            people.assign(face_ids, person)
    people.drop_empty_unnamed()
    return GroupReport(len(new), joined, created)


def assign_people(
    known: np.ndarray,
    owners: Sequence[int],
    known_paths: Sequence[str],
    new: np.ndarray,
    new_paths: Sequence[str],
    threshold: float = SAME_PERSON_DISTANCE,
) -> list[int]:
    """The person of each new face, in order: incremental nearest-neighbour grouping.

    A face joins the person owning its nearest face (known faces and the new faces placed before it)
    when that face is closer than ``threshold``, but never a person already in the same photo (one
    person appears once per photo); otherwise it starts a new person, numbered -1, -2, … here.
    """
    if threshold <= 0:
        raise UsageError("the grouping threshold must be above 0 (dlib's published value is 0.6)")
    dim = new.shape[-1] if len(new) else DESCRIPTOR_DIM
    matrix = np.empty((len(known) + len(new), dim), np.float32)  # known faces, then each placed new face
    matrix[: len(known)] = np.asarray(known, dtype=np.float32).reshape(-1, dim)
    filled = len(known)
    owner = [int(o) for o in owners]
    in_photo = set(zip(owner, known_paths, strict=True))
    labels: list[int] = []
    fresh = 0
    for descriptor, path in zip(new, new_paths, strict=True):
        person = None
        if filled:
            dist = distances(descriptor, matrix[:filled])[0]
            for j in np.argsort(dist, kind="stable"):
                if dist[j] > threshold:
                    break
                if (owner[j], path) not in in_photo:
                    person = owner[j]
                    break
        if person is None:
            fresh += 1
            person = -fresh
        labels.append(person)
        in_photo.add((person, path))
        owner.append(person)
        matrix[filled] = descriptor
        filled += 1
    return labels
