"""``import clipaware``: a small lazy face, each name the real object, and no torch until a model is used."""

from __future__ import annotations

import subprocess
import sys

import pytest

import clipaware


def test_importing_the_face_and_analysing_text_imports_no_torch() -> None:
    code = (
        "import sys, clipaware; clipaware.analyze('three dogs'); clipaware.open_library; clipaware.search; "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]


def test_each_public_name_is_the_object_it_names() -> None:
    from clipaware.library import Library, open_library
    from clipaware.models.clip import ClipModel
    from clipaware.query.analyze import analyze
    from clipaware.tasks.ask import Toolkit, ask
    from clipaware.tasks.indexing import index_paths
    from clipaware.tasks.search import search, similar

    expected = {
        "ClipModel": ClipModel,
        "Library": Library,
        "open_library": open_library,
        "Toolkit": Toolkit,
        "index_paths": index_paths,
        "search": search,
        "similar": similar,
        "ask": ask,
        "analyze": analyze,
    }
    assert {name: getattr(clipaware, name) for name in expected} == expected
    assert set(expected) | {"__version__"} == set(clipaware.__all__) == set(dir(clipaware))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        clipaware.nope  # noqa: B018
