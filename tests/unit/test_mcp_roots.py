"""Which paths an MCP client may make the server read (clipaware.mcp.roots): decided before anything is opened."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clipaware.errors import UsageError
from clipaware.mcp.roots import OutsideRootsError, Roots


@pytest.fixture()
def tree(tmp_path: Path) -> dict[str, Path]:
    root, other, outside = tmp_path / "photos", tmp_path / "more", tmp_path / "outside"
    for folder in (root / "sub", other, outside):
        folder.mkdir(parents=True)
    (root / "sub" / "a.jpg").write_bytes(b"x")
    (outside / "secret.jpg").write_bytes(b"x")
    (root / "link.jpg").symlink_to(outside / "secret.jpg")
    (root / "inner.jpg").symlink_to(root / "sub" / "a.jpg")
    (root / "out-dir").symlink_to(outside, target_is_directory=True)
    return {"root": root, "other": other, "outside": outside}


def test_paths_under_any_root_resolve_to_absolute_real_paths(tree) -> None:
    roots = Roots.of([tree["root"], tree["other"]])
    assert roots.resolve("sub/a.jpg") == tree["root"] / "sub" / "a.jpg"  # relative: under the first root
    assert roots.resolve(str(tree["root"] / "sub" / "a.jpg")) == tree["root"] / "sub" / "a.jpg"
    assert roots.resolve("inner.jpg") == tree["root"] / "sub" / "a.jpg"  # a link that stays inside
    assert roots.resolve(str(tree["other"] / "new.jpg")) == tree["other"] / "new.jpg"  # second root
    assert roots.resolve(str(tree["root"])) == tree["root"]


@pytest.mark.parametrize("reference", ["../outside/secret.jpg", "link.jpg", "out-dir/secret.jpg", "/etc/passwd", "/"])
def test_escapes_are_refused(tree, reference: str) -> None:
    with pytest.raises(OutsideRootsError, match="outside the allowed roots"):
        Roots.of([tree["root"]]).resolve(reference)


def test_a_prefix_is_not_a_parent(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos-private").mkdir()
    with pytest.raises(OutsideRootsError):
        Roots.of([tmp_path / "photos"]).resolve(str(tmp_path / "photos-private" / "x.jpg"))


def test_indexed_paths_outside_the_roots_are_allowed_exactly(tree) -> None:
    secret = str(tree["outside"] / "secret.jpg")
    roots = Roots.of([tree["root"]])
    assert roots.resolve(secret, indexed=lambda path: path == secret) == Path(secret)
    with pytest.raises(OutsideRootsError):
        roots.resolve(str(tree["outside"] / "other.jpg"), indexed=lambda path: path == secret)


@pytest.mark.parametrize("reference", ["", "   ", "a\x00b.jpg", "x" * 5000])
def test_unusable_references_are_usage_errors(tree, reference: str) -> None:
    with pytest.raises(UsageError):
        Roots.of([tree["root"]]).resolve(reference)


def test_a_missing_root_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such folder"):
        Roots.of([tmp_path / "nope"])
    assert Roots.of([tmp_path, tmp_path / "."]).folders == (Path(os.path.realpath(tmp_path)),)  # once each
