"""People: the index's faces grouped into persons, named, merged, split, forgotten and searched.

A person is answered from face descriptors, never from CLIP: "is Alice in this photo?" compares the
photo's faces with Alice's faces; "Alice at the beach" keeps only photos holding one of Alice's faces and
lets CLIP rank them for "at the beach". A name the index does not know is an error that says how to name
someone (:class:`~clipaware.errors.UnknownPersonError`), not a CLIP search for the word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clipaware.errors import UnknownPersonError, UsageError
from clipaware.index.people import FaceRow, PeopleStore, PersonRow
from clipaware.tasks.faces import group_faces, people_of

if TYPE_CHECKING:
    from clipaware.index.filters import Filters
    from clipaware.library import Library


@dataclass(frozen=True)
class Person:
    """One person of the index: how many faces and photos, and the clearest face (the largest box)."""

    id: int
    name: str | None
    faces: int
    images: int
    representative: FaceRow | None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "faces": self.faces,
            "images": self.images,
            "representative": self.representative.to_dict() if self.representative else None,
        }


@dataclass(frozen=True)
class PeopleOverview:
    """``clipaware people --json`` (and the service's and MCP's people list): every person, and the counts."""

    people: tuple[Person, ...]
    counts: dict[str, int]  # images_scanned, faces, small_faces_skipped

    def to_dict(self) -> dict[str, object]:
        return {"people": [p.to_dict() for p in self.people], **self.counts}


def people_overview(store: Any, threshold: float | None = None) -> PeopleOverview:
    """The index's people after grouping any face a killed run left ungrouped (at ``threshold``, default
    the face model's published one), most photos first."""
    people = _people(store)
    if threshold is None:
        group_faces(people)
    else:
        group_faces(people, threshold)
    return PeopleOverview(tuple(list_people(people)), dict(people.face_counts()))


def _people(store_or_people: Any) -> PeopleStore:
    return store_or_people if isinstance(store_or_people, PeopleStore) else people_of(store_or_people)


def list_people(store: Any) -> list[Person]:
    """Every person with their face and photo counts, most photos first (named before unnamed on ties)."""
    people = _people(store)
    by_person: dict[int, list[FaceRow]] = {}
    for face in people.faces(grouped=True):
        by_person.setdefault(int(face.person_id or 0), []).append(face)
    out = []
    for row in people.people():
        faces = by_person.get(row.id, [])
        best = max(faces, key=lambda f: (f.area, f.score, -f.id)) if faces else None
        out.append(Person(row.id, row.name, len(faces), len({f.path for f in faces}), best))
    out.sort(key=lambda p: (-p.images, p.name is None, p.id))
    return out


def resolve_person(store: Any, ref: str | int) -> PersonRow:
    """A person by ID (digits) or by name; an unknown one is a clear error."""
    people = _people(store)
    text = str(ref).strip()
    if text.isdigit():
        row = people.person(int(text))
        if row is None:
            raise UsageError(f"no person with ID {text}; `clipaware people` lists them")
        return row
    row = people.person_named(text)
    if row is None:
        raise UnknownPersonError(text)
    return row


def person_faces(store: Any, ref: str | int) -> tuple[PersonRow, list[FaceRow]]:
    people = _people(store)
    row = resolve_person(people, ref)
    return row, people.faces(person_id=row.id)


def name_person(store: Any, ref: str | int, name: str) -> PersonRow:
    """Name (or rename) a person. Names are unique (case-insensitive) and may not be bare numbers."""
    people = _people(store)
    row = resolve_person(people, ref)
    clean = " ".join(name.split())
    if not clean:
        raise UsageError("the name is empty")
    if clean.isdigit():
        raise UsageError(f"{clean!r} looks like a person ID; a name needs a letter")
    other = people.person_named(clean)
    if other is not None and other.id != row.id:
        raise UsageError(
            f"person {other.id} is already called {other.name!r}; if they are the same person, "
            f"`clipaware people merge {other.id} {row.id}`"
        )
    people.rename(row.id, clean)
    return PersonRow(row.id, clean)


def merge_people(store: Any, keep: str | int, others: Sequence[str | int]) -> PersonRow:
    """Fold ``others`` into ``keep``; ``keep`` takes the first other's name if it has none."""
    people = _people(store)
    target = resolve_person(people, keep)
    rows = [resolve_person(people, o) for o in others]
    rows = [r for r in rows if r.id != target.id]
    if not rows:
        raise UsageError("name at least one other person to merge")
    names = {r.name for r in rows if r.name} | ({target.name} if target.name else set())
    if len({n.casefold() for n in names}) > 1:
        raise UsageError(f"these people have different names ({', '.join(sorted(names))}); rename or forget one first")
    name = target.name or next((r.name for r in rows if r.name), None)
    people.merge(target.id, [r.id for r in rows])
    if name and name != target.name:
        people.rename(target.id, name)
    return PersonRow(target.id, name)


def split_person(store: Any, ref: str | int, face_ids: Sequence[int], name: str | None = None) -> PersonRow:
    """Move ``face_ids`` (faces of this person) into a new person, pinned so grouping never moves them."""
    people = _people(store)
    row = resolve_person(people, ref)
    own = {f.id for f in people.faces(person_id=row.id)}
    wanted = [int(i) for i in dict.fromkeys(face_ids)]
    strangers = [i for i in wanted if i not in own]
    if not wanted:
        raise UsageError("give the face IDs to split off (`clipaware people faces ID` lists them)")
    if strangers:
        raise UsageError(f"face(s) {', '.join(map(str, strangers))} are not faces of person {row.id}")
    if len(wanted) == len(own):
        raise UsageError("that is every face of this person: nothing would be left to split from")
    new_id = people.new_person()
    people.assign(wanted, new_id, pinned=True)
    return name_person(people, new_id, name) if name else PersonRow(new_id, None)


def forget_person(store: Any, ref: str | int) -> int:
    """Delete a person and all their face descriptors; returns how many faces were deleted."""
    people = _people(store)
    row = resolve_person(people, ref)
    return people.forget(row.id)


# ---------------------------------------------------------------------------------- asking and search
FILLER = frozenset(
    {"a", "an", "the", "of", "with", "and", "photo", "photos", "picture", "pictures", "image", "images", "pic",
     "pics", "shot", "shots", "me", "show", "find", "all", "some", "any", "is", "are", "in", "this", "that", "s"}
)  # fmt: skip


PREPOSITIONS = frozenset({"in", "with"})


def split_names(person: str) -> list[str]:
    """The names in "Alice and Bob" (photos with all of them), as every door reads a person argument."""
    return [n.strip() for n in person.split(" and ") if n.strip()]


def rest_of_query(query: str, names: Sequence[str]) -> str:
    """The query without the people's names and the words around them that only point at photos.

    "photos of Alice at the beach" → "at the beach"; "Alice and Bob" → "".
    """
    text = query
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}(?:'s)?\b", " ", text, flags=re.IGNORECASE)
    words = re.findall(r"[\w'-]+", text)
    while words and words[0].lower() in FILLER - PREPOSITIONS:  # "Alice in Paris" keeps "in Paris"
        words.pop(0)
    while words and words[-1].lower() in FILLER:
        words.pop()
    return " ".join(words) if any(w.lower() not in FILLER for w in words) else ""


@dataclass(frozen=True)
class PeopleHit:
    path: str
    score: float
    faces: tuple[FaceRow, ...]
    ranked_by: str  # "clip" (CLIP similarity to the rest of the query) or "face" (detector score)

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "score": round(self.score, 6), "ranked_by": self.ranked_by,
                "faces": [f.to_dict() for f in self.faces]}  # fmt: skip

    def evidence(self, names: Sequence[str], rest: str) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = [
            {"route": "people", "person": name, "face": face.id, "box": list(face.box), "score": round(face.score, 4)}
            for name, face in zip(names, self.faces, strict=True)
        ]
        if self.ranked_by == "clip":
            steps.append({"route": "clip", "text": rest})
        return steps


def photos_of(
    library: Library, names: Sequence[str], query: str, *, k: int = 10, filters: Filters | None = None
) -> tuple[list[PeopleHit], str] | None:
    """Photos holding a face of every person in ``names``, ranked by CLIP for the rest of ``query``.

    None when the library keeps no people (faces were never indexed): the caller then says so. Without
    other words ("photos of Alice") the photos are ordered by how clear the face is (detector score).
    """
    store = library.store
    people = getattr(store, "people", None)
    if not isinstance(people, PeopleStore) or (people.face_detector() is None and not people.people()):
        return None
    rows = [resolve_person(people, name) for name in names]
    best: dict[str, list[FaceRow]] = {}
    for index, row in enumerate(rows):
        faces: dict[str, FaceRow] = {}
        for face in people.faces(person_id=row.id):
            if face.path not in faces or face.score > faces[face.path].score:
                faces[face.path] = face
        if index == 0:
            best = {p: [f] for p, f in faces.items()}
        else:
            best = {p: [*fs, faces[p]] for p, fs in best.items() if p in faces}
    paths = sorted(best)
    if filters is not None and not filters.empty and paths:
        allowed = set(people_paths_matching(store, paths, filters))
        paths = [p for p in paths if p in allowed]
    rest = rest_of_query(query, [r.name or n for r, n in zip(rows, names, strict=True)])
    if rest and paths:
        text = library.model.encode_texts([rest])[0]
        scored = []
        for path in paths:
            vector = store.embedding_for_path(path)
            if vector is not None:
                scored.append(PeopleHit(path, float(vector @ text), tuple(best[path]), "clip"))
    else:
        scored = [PeopleHit(p, float(min(f.score for f in best[p])), tuple(best[p]), "face") for p in paths]
    scored.sort(key=lambda h: (-h.score, h.path))
    return scored[:k], rest


def people_paths_matching(store: Any, paths: Sequence[str], filters: Filters) -> list[str]:
    """Those of ``paths`` that pass ``filters`` (the SQLite index's own filter semantics)."""
    where, params = filters.sql()
    out: list[str] = []
    for start in range(0, len(paths), 500):
        part = list(paths[start : start + 500])
        marks = ",".join("?" * len(part))
        rows = store.conn.execute(f"SELECT path FROM images WHERE path IN ({marks}) AND {where}", [*part, *params])
        out.extend(r[0] for r in rows)
    return out
