"""Helpers shared by tests (importable, unlike conftest)."""

from __future__ import annotations

import sys

import pytest


def crafted_png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels: the shape of a decompression bomb."""
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process exactly as the console script does; return (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["clipaware", *map(str, args)])
    from clipaware.cli import main

    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


def index_folder(paths, *, db=None, model: str | None = None, **options):
    """``index_paths`` as ``clipaware index`` runs it: one library opened for the run, then closed.

    ``model`` and the engine come from ``CLIPAWARE_MODEL`` / ``_RUNTIME`` / ``_PRECISION`` / ``_ONNX_CACHE`` /
    ``_ANN_THRESHOLD``,
    read here as the CLI's options read them, so tests that set a variable index as ``clipaware index`` would.
    """
    import os

    from clipaware.library import Library
    from clipaware.tasks.indexing import default_db_for, index_paths

    location = db if db is not None else default_db_for(paths)
    engine = {
        "runtime": os.environ.get("CLIPAWARE_RUNTIME"),
        "precision": os.environ.get("CLIPAWARE_PRECISION"),
        "onnx_cache": os.environ.get("CLIPAWARE_ONNX_CACHE"),
    }
    threshold = os.environ.get("CLIPAWARE_ANN_THRESHOLD")
    engine["ann_threshold"] = int(threshold) if threshold else None
    model = model or os.environ.get("CLIPAWARE_MODEL")
    with Library.open(location, model=model, create=True, **engine) as library:
        return index_paths(library, paths, **options)
