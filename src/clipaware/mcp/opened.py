"""The opened library the server holds (interim: replaced by ``clipaware.library.Library`` at merge).

One store, opened on first need (an index may not exist until ``index_folder`` makes it), and one CLIP,
loaded once and kept. Both are what a long-lived server must not reopen per request.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from clipaware.index.sqlite import DEFAULT_DB_NAME, find_default_db


class OpenedLibrary:
    def __init__(self, location: str | Path | None, fallback_folder: Path, model: str | None = None) -> None:
        found = location or find_default_db()
        self.location = str(found) if found else str(fallback_folder / DEFAULT_DB_NAME)
        self.model_name = model
        self._store: Any = None
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Any:
        from clipaware.index.store import open_store

        with self._lock:
            if self._store is None:
                self._store = open_store(self.location)
            return self._store

    @property
    def model(self) -> Any:
        from clipaware.models.clip import ClipModel

        with self._lock:
            if self._model is None:
                self._model = ClipModel.load(self.model_name)
            return self._model

    def toolkit(self, *, detector: str = "auto", gallery: Any = None, feature_model: str | None = None) -> Any:
        from clipaware.tasks.ask import Toolkit

        return Toolkit(clip=self.model, detector=detector, gallery=gallery, feature_model=feature_model)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
