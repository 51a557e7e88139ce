"""The FastAPI app: one opened library, the CLI's tasks, their ``to_dict()`` bodies.

Every route is a few lines: validate the request (pydantic models with limits), hand the work to a
bounded queue, call one task, return its result's ``to_dict()`` — the same JSON as the CLI's ``--json``.
Results that name indexed files also carry each file's ``id`` (``"id"`` beside ``"path"`` in a hit,
``"ids"`` beside ``"paths"`` in a duplicate group), the handle for ``/api/images/{id}/…``; nothing else
is added or renamed. Errors are always JSON ``{"error", "detail"}`` with the matching status code; a
traceback goes to the server's log, never to a client.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import mimetypes
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from clipaware import __version__
from clipaware.errors import (
    ClipawareError,
    ImageLoadError,
    IndexUnavailableError,
    ModelMismatchError,
    ModelNotAvailableError,
    UnknownPersonError,
)
from clipaware.service.catalog import ImageCatalog, NotInIndex, OutsideRoots, image_id
from clipaware.service.indexer import IndexRuns
from clipaware.service.security import BodyTooLarge, Guard
from clipaware.service.thumbnails import Thumbnails, default_folder
from clipaware.service.work import Busy, WaitingTexts, WorkQueue

log = logging.getLogger("clipaware.service")
STATIC = Path(__file__).resolve().parent / "static"

MB = 1024 * 1024
DEFAULT_MAX_UPLOAD = 20 * MB
DEFAULT_MAX_BODY = 64 * 1024
MAX_QUERY = 1000  # characters of query text: far above any real query, far below a memory problem
MAX_K = 1000
DETECTORS = ("auto", "detr", "owlv2", "shapes")  # by name only: a request never names a model folder
BROWSER_FORMATS = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".webp", ".bmp"}
# raw image bodies (not multipart): nothing is spooled to disk, and the size guard sees every byte
IMAGE_BODY = {
    "requestBody": {"required": True, "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}}}
}
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9._~+/=-]{8,512}$")


class ApiError(Exception):
    """A request the service refuses with ``status``: ``error`` is short, ``detail`` says what to do."""

    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


# ---------------------------------------------------------------------------------------------- requests
Query_ = Annotated[str, Field(min_length=1, max_length=MAX_QUERY)]
K = Annotated[int, Field(ge=1, le=MAX_K)]


class FilterFields(BaseModel):
    """The CLI's search filters (``--glob``, ``--folder``, dates, pixel sizes)."""

    model_config = ConfigDict(extra="forbid")
    glob: Annotated[str, Field(max_length=MAX_QUERY)] | None = None
    folder: Annotated[str, Field(max_length=4096)] | None = None
    taken_after: Annotated[str, Field(max_length=32)] | None = None
    taken_before: Annotated[str, Field(max_length=32)] | None = None
    modified_after: Annotated[str, Field(max_length=32)] | None = None
    modified_before: Annotated[str, Field(max_length=32)] | None = None
    min_width: Annotated[int, Field(ge=1)] | None = None
    min_height: Annotated[int, Field(ge=1)] | None = None

    def build(self) -> Any:
        from clipaware.index.filters import Filters

        filters = Filters.build(
            path_glob=self.glob,
            taken_after=self.taken_after,
            taken_before=self.taken_before,
            modified_after=self.modified_after,
            modified_before=self.modified_before,
            min_width=self.min_width,
            min_height=self.min_height,
        )
        if self.folder:  # a prefix of indexed paths, compared as text: never resolved on this machine's disk
            if not os.path.isabs(self.folder):
                raise ApiError(400, "bad request", "folder must be an absolute path, as the index stores them")
            filters = dataclasses.replace(filters, folder=os.path.normpath(self.folder))
        return filters


class SearchRequest(FilterFields):
    text: Query_
    k: K = 10
    routed: bool = False
    candidates: Annotated[int, Field(ge=1, le=500)] = 50
    detector: str | None = None
    exact: bool = False


class SimilarRequest(FilterFields):
    id: Annotated[str, Field(max_length=64)]
    k: K = 10
    exact: bool = False


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, Field(max_length=64)]
    query: Query_
    detector: str | None = None


class PeoplePhotosRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Query_  # a name, or several joined with 'and', as `people photos NAME` takes it
    text: Annotated[str, Field(max_length=MAX_QUERY)] = ""
    k: K = 10


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=64)]
    labels: Annotated[str, Field(min_length=1, max_length=4000)]
    multi_label: bool = False


# -------------------------------------------------------------------------------------------- the state
@dataclasses.dataclass
class Service:
    """What the routes share: the library, the gates to files and work, index runs.

    ``library`` is the handle the model queue's thread opened for itself (SQLite connections belong to
    the thread that opens them); it shares the caller's loaded model.
    """

    library: Any
    catalog: ImageCatalog
    model_queue: WorkQueue
    image_queue: WorkQueue
    thumbnails: Thumbnails
    runs: IndexRuns
    detector: str
    texts: WaitingTexts = dataclasses.field(default_factory=WaitingTexts)
    held_generation: int | None = None

    def refresh_catalog(self) -> None:
        self.keep_vectors()
        self.catalog.refresh(self.library.store)

    async def real_file(self, ident: str) -> Path:
        """The checked file behind an id; an unknown id re-reads the store once (it may be new)."""
        try:
            return self.catalog.open_path(ident)
        except NotInIndex:
            await self.model_queue.run(self.refresh_catalog)
            return self.catalog.open_path(ident)

    async def indexed_path(self, ident: str) -> str:
        """The indexed path of an id, once :meth:`real_file` has checked that it may be read."""
        await self.real_file(ident)
        return self.catalog.path_of(ident)

    def keep_vectors(self) -> None:
        """Hold an SQLite index's vectors in memory, again whenever a write changed them (on the model thread).

        A one-shot CLI search streams vectors from the database; a long-lived server keeps them (10,000
        B/32 rows are 10 MB), so an exact search is one matrix product and ANN candidates are re-scored
        without reading the database.
        """
        store = self.library.store
        hold = getattr(store, "hold_vectors", None)  # a store that can keep its vectors here (SQLite) does
        if hold is not None and store.generation != self.held_generation:
            hold()
            self.held_generation = store.generation

    async def model_work(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` on the model queue (503 when full), with the store's vectors held."""

        def job() -> Any:
            self.keep_vectors()
            return fn(*args, **kwargs)

        return await self.model_queue.run(job)

    async def text_job(self, query: str, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """:meth:`model_work` for a task that encodes ``query``: its text is batched with the others waiting."""

        def job() -> Any:
            self.texts.embed(self.library.model)
            return fn(*args, **kwargs)

        self.texts.add(query)
        try:
            return await self.model_work(job)
        finally:
            self.texts.discard(query)  # refused (503) or already embedded: either way no longer waiting

    def detector_for(self, requested: str | None) -> str:
        if requested is None:
            return self.detector
        if requested not in DETECTORS:
            raise ApiError(400, "bad request", f"detector must be one of {', '.join(DETECTORS)}")
        return requested


def with_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The CLI's hit rows, each with the id of its path added (the handle for thumbnails and similar)."""
    return [{**row, "id": image_id(row["path"])} for row in rows]


def decode_upload(data: bytes, target_size: int | None = None) -> Any:
    """An uploaded image, decoded only through the one safe loader (size and bomb guards included).

    ``target_size`` is what the task would pass when it reads a file itself (the model's input side for
    embedding, none for ask's detectors), so an upload and the same file on disk give the same answer.
    """
    from clipaware.images import decode_image

    if not data:
        raise ApiError(400, "bad image", "the request body is empty: send the image bytes as the body")
    return decode_image(data, "<upload>", target_size).image


def _default_index_run(library: Any) -> Any:
    from clipaware.tasks.indexing import index_paths

    def run(roots: Sequence[Path], progress: Any) -> Any:
        with library.reopen() as own:  # this thread's own store connection, the same warm model
            return index_paths(own, list(roots), progress=progress)

    return run


# ---------------------------------------------------------------------------------------------- the app
def create_app(
    library: Any,
    *,
    token: str | None = None,
    roots: Sequence[str | Path] = (),
    max_upload: int = DEFAULT_MAX_UPLOAD,
    max_body: int = DEFAULT_MAX_BODY,
    hosts: Sequence[str] = (),
    detector: str = "auto",
    model_queue: int = 64,
    image_threads: int = 2,
    thumbnails: str | Path | None = None,
    index_run: Any = None,
) -> FastAPI:
    """The service over an opened ``library`` (a :class:`clipaware.library.Library`).

    ``roots``: the folders whose files may be served and that index runs cover (default: the folder of
    an SQLite index). ``token``: required by every route but health when set. ``hosts``: extra names the
    ``Host`` header may carry when there is no token. ``model_queue``: how many requests may wait for the
    model before the next one is answered 503. ``thumbnails``: the cache folder (default: hidden, beside
    an SQLite index; a temporary folder otherwise). ``detector``: ask's default detector (a name, or a
    model folder the operator chose).
    """
    if token is not None and not TOKEN_PATTERN.match(token):
        from clipaware.errors import UsageError

        raise UsageError("--token must be 8-512 characters of letters, digits and ._~+/=-")
    spec = getattr(library, "spec", None)
    is_sqlite = bool(spec is not None and spec.is_sqlite)
    if not roots and is_sqlite:
        roots = (Path(spec.target).parent,)
    temporary: str | None = None
    if thumbnails is None:
        if is_sqlite:
            thumbnails = default_folder(spec.target)
        else:
            thumbnails = temporary = tempfile.mkdtemp(prefix="clipaware-thumbnails-")
    catalog = ImageCatalog(roots)
    models = WorkQueue("model", threads=1, capacity=model_queue)
    images = WorkQueue("image", threads=image_threads, capacity=model_queue)

    def index_done() -> None:
        with contextlib.suppress(Exception):
            models.submit(lambda: catalog.refresh(state.library.store, force=True))

    runs = IndexRuns(catalog.roots, index_run or _default_index_run(library), index_done)
    state = Service(library, catalog, models, images, Thumbnails(Path(thumbnails)), runs, detector)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.library = await models.run(library.reopen)
        await models.run(state.refresh_catalog)
        try:
            yield
        finally:
            runs.stop()
            models.submit(state.library.close)
            state.library = library
            models.shutdown()
            images.shutdown()
            if temporary:
                shutil.rmtree(temporary, ignore_errors=True)

    from fastapi_offline import FastAPIOffline

    app = FastAPIOffline(  # FastAPI whose /docs and /redoc load their scripts from here, not from a CDN
        static_url="/docs-assets",
        title="clipaware",
        version=__version__,
        summary="Search a photo library with CLIP, and know when CLIP is the wrong tool.",
        lifespan=lifespan,
    )
    app.state.service = state
    _errors(app)
    _routes(app, state)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # the guard wraps everything, the docs and the page included; Starlette builds the stack lazily
    app.add_middleware(Guard, token=token, hosts=hosts, max_upload=max_upload, max_body=max_body)
    return app


# -------------------------------------------------------------------------------------------- the errors
STATUS_OF: tuple[tuple[type[Exception], int, str], ...] = (
    (UnknownPersonError, 404, "unknown person"),
    (ModelMismatchError, 409, "model mismatch"),
    (ModelNotAvailableError, 503, "model unavailable"),
    (IndexUnavailableError, 503, "index unavailable"),
    (ImageLoadError, 400, "bad image"),
    (ClipawareError, 400, "bad request"),
)


def _error(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def _errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.error, exc.detail, exc.headers)

    @app.exception_handler(ClipawareError)
    async def clipaware_error(request: Request, exc: ClipawareError) -> JSONResponse:
        for kind, status, error in STATUS_OF:
            if isinstance(exc, kind):
                return _error(status, error, str(exc))
        return _error(400, "bad request", str(exc))  # pragma: no cover (ClipawareError is last above)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        return _error(503, "busy", str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
        return _error(413, "too large", str(exc))

    @app.exception_handler(NotInIndex)
    async def not_found(request: Request, exc: NotInIndex) -> JSONResponse:
        return _error(404, "not found", "no indexed image has this id")

    @app.exception_handler(OutsideRoots)
    async def outside(request: Request, exc: OutsideRoots) -> JSONResponse:
        return _error(403, "forbidden", "this indexed file is not under a served root (or links out of one)")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "not found", 405: "method not allowed"}
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        return _error(exc.status_code, names.get(exc.status_code, "http error"), detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return _error(400, "malformed JSON", "the request body is not valid JSON")
        parts = []
        for p in problems[:5]:  # never echo the input back: it may be megabytes
            where = ".".join(str(x) for x in p.get("loc", ()) if x != "body") or "body"
            parts.append(f"{where}: {p.get('msg', 'invalid')}")
        return _error(422, "invalid request", "; ".join(parts))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(500, "internal error", "an unexpected error; the server's log has the details")


# -------------------------------------------------------------------------------------------- the routes
def _routes(app: FastAPI, s: Service) -> None:

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/api/health", tags=["service"])
    async def health() -> dict[str, str]:
        """Liveness (no token needed, nothing private)."""
        return {"status": "ok", "version": __version__}

    @app.get("/api/status", tags=["service"])
    async def status() -> dict[str, Any]:
        """The opened library: where, which model, how many images, the roots, and the index run."""
        count = await s.model_work(lambda: len(s.library.store))
        return {
            "version": __version__,
            "db": s.library.location,
            "model": s.library.model_name,
            "model_loaded": s.library.model_loaded,
            "images": count,
            "roots": [str(r) for r in s.catalog.roots],
            "index": s.runs.status(),
        }

    @app.get("/api/check", tags=["queries"])
    async def check(q: Annotated[str, Query(max_length=MAX_QUERY)] = "") -> dict[str, Any]:
        """``clipaware check --json``: does CLIP suit this query, and if not why (no model involved).

        Answered on the event loop itself: the analyzer takes about half a millisecond, less than a hop to
        a worker thread, and the page calls it on every keystroke.
        """
        from clipaware.query import analyze

        return analyze(q).to_dict()

    @app.post("/api/search", tags=["search"])
    async def search_text(req: SearchRequest) -> Any:
        """``clipaware search TEXT --json`` (with ``routed``: ``search --routed --json``)."""
        filters = req.build()
        detector = s.detector_for(req.detector)
        if req.routed:
            from clipaware.tasks.routed import routed_search

            kit = s.library.toolkit(detector=detector)
            result = await s.text_job(
                req.text, routed_search, s.library, req.text, k=req.k, candidates=req.candidates, kit=kit,
                filters=filters, exact=req.exact or None,
            )  # fmt: skip
            body = result.to_dict()
            return {**body, "hits": with_ids(body["hits"])}
        from clipaware.tasks.search import search

        hits = await s.text_job(
            req.text, search, s.library, text=req.text, k=req.k, filters=filters, exact=req.exact or None
        )
        return with_ids([h.to_dict() for h in hits])

    @app.post("/api/search/image", tags=["search"], openapi_extra=IMAGE_BODY)
    async def search_image(
        request: Request,
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
        glob: Annotated[str | None, Query(max_length=MAX_QUERY)] = None,
    ) -> Any:
        """``clipaware search --image FILE --json`` with the image as the request body."""
        from clipaware.tasks.search import search

        image = await s.image_queue.run(decode_upload, await request.body(), s.library.model.image_size)
        filters = FilterFields(glob=glob).build()
        hits = await s.model_work(search, s.library, image=image, k=k, filters=filters)
        return with_ids([h.to_dict() for h in hits])

    @app.post("/api/similar", tags=["search"])
    async def similar(req: SimilarRequest) -> Any:
        """``clipaware similar IMAGE --json`` for an indexed image named by id."""
        from clipaware.tasks.search import similar as similar_task

        path = await s.indexed_path(req.id)
        hits = await s.model_work(similar_task, s.library, path, k=req.k, filters=req.build(), exact=req.exact or None)
        return with_ids([h.to_dict() for h in hits])

    @app.post("/api/ask", tags=["ask"])
    async def ask_indexed(req: AskRequest) -> Any:
        """``clipaware ask IMAGE QUERY --json`` for an indexed image named by id."""
        from clipaware.tasks.ask import ask

        path = await s.indexed_path(req.id)
        kit = s.library.toolkit(detector=s.detector_for(req.detector))
        answer = await s.model_work(ask, path, req.query, kit=kit)
        return answer.to_dict()

    @app.post("/api/ask/image", tags=["ask"], openapi_extra=IMAGE_BODY)
    async def ask_upload(
        request: Request,
        query: Annotated[str, Query(min_length=1, max_length=MAX_QUERY)],
        detector: Annotated[str | None, Query(max_length=32)] = None,
    ) -> Any:
        """``clipaware ask IMAGE QUERY --json`` with the image as the request body."""
        from clipaware.tasks.ask import ask

        image = await s.image_queue.run(decode_upload, await request.body())
        kit = s.library.toolkit(detector=s.detector_for(detector))
        answer = await s.model_work(ask, image, query, kit=kit)
        return answer.to_dict()

    @app.post("/api/classify", tags=["ask"])
    async def classify_indexed(req: ClassifyRequest) -> Any:
        """``clipaware classify IMAGE… --labels a,b --json`` for indexed images named by id."""
        from clipaware.tasks.classify import classify, parse_labels

        paths = [await s.indexed_path(ident) for ident in req.ids]
        labels = parse_labels(req.labels)
        result = await s.model_work(lambda: classify(s.library.model, paths, labels, multi_label=req.multi_label))
        return result.to_dict()

    @app.post("/api/classify/image", tags=["ask"], openapi_extra=IMAGE_BODY)
    async def classify_upload(
        request: Request,
        labels: Annotated[str, Query(min_length=1, max_length=4000)],
        multi_label: bool = False,
    ) -> Any:
        """``clipaware classify IMAGE --labels a,b --json`` with the image as the request body."""
        from clipaware.tasks.classify import classify, parse_labels

        image = await s.image_queue.run(decode_upload, await request.body(), s.library.model.image_size)
        names = parse_labels(labels)
        result = await s.model_work(lambda: classify(s.library.model, [image], names, multi_label=multi_label))
        return result.to_dict()

    @app.get("/api/duplicates", tags=["search"])
    async def duplicates(threshold: Annotated[float, Query(gt=0.0, le=1.0)] = 0.95) -> Any:
        """``clipaware duplicates --json``, each group with the ids of its paths."""
        from clipaware.tasks.duplicates import find_duplicates

        groups = await s.model_work(find_duplicates, s.library, threshold)
        return [{**g.to_dict(), "ids": [image_id(p) for p in g.paths]} for g in groups]

    @app.get("/api/people", tags=["people"])
    async def people_list() -> dict[str, Any]:
        """``clipaware people --json``: the people of an index built with ``--faces``, most photos first."""
        from clipaware.tasks.people import people_overview

        def listing() -> dict[str, Any]:
            return people_overview(s.library.store).to_dict()  # grouping first, as the CLI does

        return await s.model_work(listing)

    @app.post("/api/people/photos", tags=["people"])
    async def people_photos(req: PeoplePhotosRequest) -> Any:
        """``clipaware people photos NAME --text TEXT --json``: photos of named people (faces, not CLIP)."""
        from clipaware.tasks.people import photos_of, split_names

        query = " ".join([req.name, req.text]).strip()
        found = await s.model_work(photos_of, s.library, split_names(req.name), query, k=req.k)
        if found is None:
            raise ApiError(409, "no faces", "this index has no faces: run `clipaware index FOLDER --faces` first")
        hits, _ = found
        return with_ids([h.to_dict() for h in hits])

    @app.get("/api/index", tags=["index"])
    async def index_status() -> dict[str, Any]:
        """The current or last index run: running, done/total files, the report (``index --json``) or error."""
        return s.runs.status()

    @app.post("/api/index", tags=["index"], status_code=202)
    async def index_start() -> dict[str, Any]:
        """Start an index run over the served roots (one at a time: 409 while one runs)."""
        try:
            return s.runs.start()
        except RuntimeError as exc:
            raise ApiError(409, "conflict", str(exc)) from None

    @app.get("/api/images/{ident}/thumbnail", tags=["images"], response_class=Response)
    async def thumbnail(ident: str) -> Response:
        """A small JPEG of an indexed image (made once, cached)."""
        real = await s.real_file(ident)
        data = await s.image_queue.run(s.thumbnails.get, real)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/api/images/{ident}/file", tags=["images"], response_class=Response)
    async def original(ident: str) -> Response:
        """The indexed image itself (re-encoded as PNG when browsers cannot show its format)."""
        real = await s.real_file(ident)
        if real.suffix.lower() in BROWSER_FORMATS:
            from clipaware.images import read_file

            data = await s.image_queue.run(read_file, real)
            media = mimetypes.guess_type(real.name)[0] or "application/octet-stream"
        else:
            data, media = await s.image_queue.run(_as_png, real), "image/png"
        return Response(data, media_type=media, headers={"Cache-Control": "private, max-age=3600"})


def _as_png(real: Path) -> bytes:
    import io

    from clipaware.images import decode_image, read_file

    buffer = io.BytesIO()
    decode_image(read_file(real), str(real)).image.save(buffer, "PNG")
    return buffer.getvalue()
