"""The face tables and the grouping rule, with made-up descriptors: no dlib needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clipaware.errors import UnknownPersonError, UsageError
from clipaware.index.people import ScanRecord
from clipaware.index.sqlite import SCHEMA_VERSION, ImageIndex
from clipaware.index.store import NewEmbedding
from clipaware.models.faces import FoundFace
from clipaware.tasks.faces import assign_people, group_faces
from clipaware.tasks.people import (
    forget_person,
    list_people,
    merge_people,
    name_person,
    resolve_person,
    rest_of_query,
    split_person,
)


def _unit(rng: np.random.Generator, n: int = 1) -> np.ndarray:
    v = rng.normal(size=(n, 128)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _near(base: np.ndarray, rng: np.random.Generator, spread: float = 0.05) -> np.ndarray:
    return (base + rng.normal(scale=spread / np.sqrt(128), size=base.shape)).astype(np.float32)


@pytest.fixture()
def index(tmp_path: Path):
    with ImageIndex.create_or_open(tmp_path / "x.db", "m", 4) as ix:
        yield ix


def _add_image(index: ImageIndex, path: str, sha: str) -> None:
    index.upsert([NewEmbedding(path, 1, 1, sha, 10, 10, np.ones(4, np.float32))])


def _scan(index: ImageIndex, path: str, sha: str, descriptors: np.ndarray, small: int = 0) -> None:
    faces = tuple(FoundFace((i * 50, 0, i * 50 + 40, 40), 1.0 - i * 0.1, d) for i, d in enumerate(descriptors))
    index.people.record_scans([ScanRecord(path, sha, faces, small)], "dlib_face_recognition_resnet_model_v1")


def test_assign_people_groups_by_distance_and_never_twice_in_one_photo() -> None:
    rng = np.random.default_rng(0)
    alice, bob = _unit(rng), _unit(rng)
    faces = np.concatenate([_near(alice, rng), _near(bob, rng), _near(alice, rng), _near(alice, rng)])
    labels = assign_people(np.zeros((0, 128)), [], [], faces, ["a.jpg", "a.jpg", "b.jpg", "b.jpg"])
    assert labels[0] == labels[2] != labels[1]  # Alice twice across photos, Bob apart
    assert labels[3] not in (labels[0], labels[1])  # a second Alice-like face in b.jpg cannot be Alice again
    # incremental: a new face near a known person joins that person's id; a far one starts a new person
    later = assign_people(faces[:3], [7, 8, 7], ["a.jpg", "a.jpg", "b.jpg"], np.concatenate([_near(bob, rng),
                          _unit(rng)]), ["c.jpg", "c.jpg"])  # fmt: skip
    assert later == [8, -1]
    with pytest.raises(UsageError):
        assign_people(faces, [1, 2, 3, 4], ["a", "b", "c", "d"], faces[:1], ["e"], threshold=0)


def test_faces_live_only_while_their_image_holds_the_same_content(index: ImageIndex) -> None:
    rng = np.random.default_rng(1)
    _add_image(index, "/p/a.jpg", "sha-a")
    _scan(index, "/p/a.jpg", "sha-a", _unit(rng, 2), small=1)
    people = index.people
    assert [f.path for f in people.faces()] == ["/p/a.jpg", "/p/a.jpg"]
    assert people.face_counts() == {"images_scanned": 1, "faces": 2, "small_faces_skipped": 1}
    _add_image(index, "/p/a.jpg", "sha-a2")  # the file changed: its old faces no longer count
    assert people.faces() == []
    assert people.scans() == {"/p/a.jpg": "sha-a"}  # and it is due for a new scan
    _add_image(index, "/p/a.jpg", "sha-a")
    index.remove(["/p/a.jpg"])  # a removed image takes its faces and its scan mark with it
    assert people.faces() == [] and people.scans() == {}


def test_a_copied_file_takes_the_faces_and_people_of_its_twin(index: ImageIndex) -> None:
    rng = np.random.default_rng(2)
    for path in ("/p/a.jpg", "/p/copy.jpg"):
        _add_image(index, path, "same")
    _scan(index, "/p/a.jpg", "same", _unit(rng))
    group_faces(index.people)
    (alice,) = list_people(index)
    name_person(index, alice.id, "Alice")
    assert index.people.copy_scan("same", "/p/copy.jpg")
    assert not index.people.copy_scan("never-scanned", "/p/other.jpg")
    (alice,) = list_people(index)
    assert (alice.name, alice.faces, alice.images) == ("Alice", 2, 2)


def test_name_merge_split_forget(index: ImageIndex) -> None:
    rng = np.random.default_rng(3)
    alice, bob = _unit(rng), _unit(rng)
    for i in range(3):
        _add_image(index, f"/p/{i}.jpg", f"s{i}")
        _scan(index, f"/p/{i}.jpg", f"s{i}", np.concatenate([_near(alice, rng), _near(bob, rng)]))
    report = group_faces(index.people)
    assert (report.grouped, report.new_people, report.joined) == (6, 2, 0)  # two new people, none known before
    first, second = list_people(index)
    assert (first.faces, second.faces) == (3, 3)
    name_person(index, first.id, "  Alice  ")
    assert resolve_person(index, "alice").name == "Alice"  # names are case-insensitive, trimmed
    with pytest.raises(UsageError, match="already called"):
        name_person(index, second.id, "ALICE")
    with pytest.raises(UsageError, match="ID"):
        name_person(index, second.id, "42")
    with pytest.raises(UnknownPersonError, match="no person named 'Carol'"):
        resolve_person(index, "Carol")
    # split two of Bob's faces off, then merge them back: the merged person keeps the name
    bob_faces = [f.id for f in index.people.faces(person_id=second.id)]
    split = split_person(index, second.id, bob_faces[:2], name="Bob")
    assert {p.name: p.faces for p in list_people(index)} == {"Alice": 3, "Bob": 2, None: 1}
    with pytest.raises(UsageError, match="not faces of person"):
        split_person(index, second.id, [bob_faces[0]])
    merged = merge_people(index, second.id, [split.id])
    assert merged.name == "Bob" and {p.name: p.faces for p in list_people(index)} == {"Alice": 3, "Bob": 3}
    # forget deletes every descriptor of theirs; a re-grouping does not bring them back
    assert forget_person(index, "Bob") == 3
    assert index.conn.execute("SELECT COUNT(*) FROM faces WHERE person_id = ?", (second.id,)).fetchone()[0] == 0
    group_faces(index.people)
    assert [p.name for p in list_people(index)] == ["Alice"]


def test_schema_v4_adds_the_face_tables(index: ImageIndex) -> None:
    assert SCHEMA_VERSION >= 4
    tables = {r[0] for r in index.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"faces", "face_scans", "people"} <= tables
    assert index.people.face_detector() is None  # faces are off until asked for


@pytest.mark.parametrize(
    ("query", "names", "rest"),
    [
        ("Alice at the beach", ["Alice"], "at the beach"),
        ("photos of Alice", ["Alice"], ""),
        ("pictures of Alice and Bob skiing", ["Alice", "Bob"], "skiing"),
        ("Alice's birthday cake", ["Alice"], "birthday cake"),
        ("is Alice in this photo?", ["Alice"], ""),
        ("Alice in Paris", ["Alice"], "in Paris"),
    ],
)
def test_rest_of_query_drops_the_names_and_photo_words(query: str, names: list[str], rest: str) -> None:
    assert rest_of_query(query, names) == rest
