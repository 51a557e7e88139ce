"""The suite is hermetic: its own HOME, Hugging Face cache and ONNX cache, whatever the user has cached or set.

The README tells users to fill ~/.cache/huggingface (DETR, CLIP); a test that saw that cache would pass or fail
depending on the machine it runs on.
"""

from __future__ import annotations

import os
import pwd
import tempfile
from pathlib import Path


def _inside(path: str | Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def test_the_session_has_its_own_home_and_caches() -> None:
    from huggingface_hub import constants

    from clipaware.models import hub, onnx

    home = Path.home()
    assert _inside(home, Path(tempfile.gettempdir()))
    assert home != Path(pwd.getpwuid(os.getuid()).pw_dir)  # never the account's real home
    assert _inside(constants.HF_HUB_CACHE, home) and _inside(hub.cache_dir(), home)
    assert _inside(onnx.onnx_cache_root(), home)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    for variable in ("CLIPAWARE_MODEL", "CLIPAWARE_DB", "CLIPAWARE_DEVICE", "CLIPAWARE_ANN_THRESHOLD"):
        assert variable not in os.environ


def test_the_session_cache_holds_no_real_model() -> None:
    from clipaware.models.detect import DETR
    from clipaware.models.hub import cached_snapshot
    from clipaware.models.registry import DEFAULT_MODEL, REGISTRY

    for name in (DEFAULT_MODEL, DETR):
        assert cached_snapshot(name, REGISTRY[name].revision) is None
