"""A small indexed photo folder (tiny saved CLIP), the library opened on it, and the service over it."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def cli(*args: object, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the CLI in-process as the console script does; (exit code, stdout)."""
    from clipaware.cli import main

    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in (env or {}).items():
            mp.setenv(key, value)
        mp.delenv("CLIPAWARE_DB", raising=False)
        mp.setattr(sys, "argv", ["clipaware", *map(str, args)])
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as info:
            main()
    return int(info.value.code or 0), out.getvalue()


def write_photos(root: Path) -> Path:
    """Real photos (scikit-image), a near-duplicate, a format browsers cannot show, and a broken file."""
    from skimage import data

    (root / "sub").mkdir(parents=True)
    Image.fromarray(data.astronaut()).save(root / "astronaut.jpg", quality=90)
    Image.fromarray(data.coffee()).save(root / "coffee.jpg", quality=90)
    Image.fromarray(data.coffee()).resize((300, 200)).save(root / "coffee-small.png")
    Image.fromarray(data.chelsea()).save(root / "sub" / "chelsea.png")
    Image.fromarray(np.asarray(data.camera())).save(root / "sub" / "camera.png")
    Image.fromarray(data.rocket()).save(root / "rocket.ppm")
    (root / "broken.jpg").write_text("not an image")
    return root


@pytest.fixture(scope="module")
def served_folder(tmp_path_factory: pytest.TempPathFactory, tiny_clip_dir: Path) -> Path:
    """An indexed folder (its .clipaware.db inside), built through the CLI like a user would."""
    root = write_photos(tmp_path_factory.mktemp("served") / "photos")
    code, _ = cli("index", root, "--model", tiny_clip_dir, "--json")
    assert code == 0
    return root


@pytest.fixture(scope="module")
def library(served_folder: Path) -> Iterator[object]:
    from tests.conftest import ENGINE

    from clipaware.library import Library

    # the engine the CLI reads from the test session's environment, so served answers equal printed ones
    with Library.open(served_folder / ".clipaware.db", **ENGINE) as opened:
        yield opened


@pytest.fixture(scope="module")
def client(library: object, served_folder: Path) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from clipaware.service import create_app

    app = create_app(library, roots=[served_folder])
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client
