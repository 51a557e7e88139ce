"""The tools an agent calls: each a few lines that check the input, call one task and hand back its result.

Every tool answers with the task's ``to_dict()`` (the same JSON as the CLI's ``--json``) twice: as
``structuredContent`` for programs and as one JSON text block for models that read text. Descriptions
carry SKILL.md's decision tree in each tool's own words, because an agent picks tools from their
descriptions alone. Everything that touches the library runs on one worker thread (:meth:`Session.run`).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ContentBlock, TextContent, ToolAnnotations
from pydantic import Field

from clipaware.errors import ClipawareError, UsageError
from clipaware.mcp import schemas
from clipaware.mcp.roots import Roots
from clipaware.query import MAX_QUERY_CHARS

MAX_K = 200  # a page an agent can read; more is a job for the CLI
MAX_CANDIDATES = 500
MAX_LABELS = 100
MAX_LABEL_CHARS = 200

Query = Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS, description="The text query, in words.")]
ImageRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4096,
        description="An image file under the server's roots (absolute, or relative to the first root), or a "
        "path exactly as a search result returned it.",
    ),
]
K = Annotated[int, Field(ge=1, le=MAX_K, description="How many results, best first.")]
Thumbnails = Annotated[
    bool, Field(description="Also return small JPEG previews as image content (only if you can look at images).")
]


@dataclass
class Session:
    """What the server holds for its whole life: the opened library, the roots, the route models' choices."""

    library: Any  # clipaware.library.Library
    roots: Roots
    detector: str = "auto"
    gallery: Path | None = None
    feature_model: str | None = None
    worker: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="clipaware-mcp")
    )

    async def run(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` on the one library thread (SQLite connections and models stay on the thread that made them).

        Requests queue here one at a time: the CPU is the bottleneck, and the opened store and models are
        never used by two requests at once.
        """
        return await asyncio.wrap_future(self.worker.submit(work))

    def on_worker(self, tool: Callable[..., Any]) -> Callable[..., Any]:
        """``tool`` as an async tool whose body runs on the library thread (the signature is kept for its schema)."""

        @functools.wraps(tool)
        async def on_library_thread(*args: Any, **kwargs: Any) -> Any:
            return await self.run(functools.partial(tool, *args, **kwargs))

        return on_library_thread

    async def close(self) -> None:
        """Close the library on its own thread, then stop the thread."""
        await self.run(self.library.close)
        self.worker.shutdown(wait=True)

    def image(self, reference: str) -> str:
        """The path ``reference`` names, refused (never read) when outside the roots and not indexed."""
        return str(self.roots.resolve(reference, indexed=self._indexed))

    def folder(self, reference: str) -> str:
        """A folder to index or filter by: under the roots only (indexing reads every file below it)."""
        return str(self.roots.resolve(reference))

    def _indexed(self, path: str) -> bool:
        store = self.library.opened  # never creates the store: with no index yet, nothing is indexed
        return store is not None and store.file_facts(path) is not None

    def indexed_library(self) -> Any:
        """The library, once it has an index to search (a server may start before anything is indexed)."""
        if self.library.opened is None:
            raise UsageError(f"nothing is indexed yet at {self.library.location}: call index_folder first")
        return self.library

    def toolkit(self) -> Any:
        """The route models (detector, gallery features): the library loads each on first use and keeps it."""
        return self.library.toolkit(detector=self.detector, gallery=self.gallery, feature_model=self.feature_model)


def result(document: Any, images: list[ContentBlock] | None = None) -> CallToolResult:
    """A tool answer: the JSON document as structured content and as text, then any previews."""
    structured = document if isinstance(document, dict) else {"result": document}
    text = TextContent(type="text", text=json.dumps(document, ensure_ascii=False))
    return CallToolResult(content=[text, *(images or [])], structured_content=structured)


def one_line(exc: BaseException) -> str:
    """An error as the one line a tool error carries (newlines in user text flattened)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def search_note(check: dict[str, Any], routed: bool) -> str | None:
    """What an agent must know about ranking this query by CLIP similarity, or None when CLIP suits it."""
    if check["clip_ok"]:
        return None
    kinds = ", ".join(lim["kind"] for lim in check["limitations"])
    if routed:
        return f"CLIP proposed candidates; the {kinds} routes kept only those whose answer holds."
    return (
        f"This query needs {kinds}, which CLIP similarity cannot judge: these hits are ranked by likeness, "
        "not checked. Call search_images again with routed=true, or ask_image on a hit."
    )


def register(server: MCPServer, session: Session) -> None:
    """Add clipaware's tools to ``server``, all bound to ``session``."""
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    def tool(annotations: ToolAnnotations, *, on_worker: bool = True) -> Callable[[Callable[..., Any]], Any]:
        """Register a tool: its docstring is its description; a blocking body runs on the library thread."""

        def add(fn: Callable[..., Any]) -> Callable[..., Any]:
            server.add_tool(
                session.on_worker(fn) if on_worker else fn,
                description=inspect.cleandoc(fn.__doc__ or ""),
                annotations=annotations,
            )
            return fn

        return add

    @tool(ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False), on_worker=False)
    def check_query(query: Query) -> Annotated[CallToolResult, schemas.CheckResult]:
        """Say whether CLIP can answer a text query about images, BEFORE searching or classifying with it.

        Call this first for any text query. No model runs; it takes milliseconds.
        Returns {query, clip_ok, limitations: [{kind, evidence, explanation, suggestion}], parse}.
        clip_ok=true (broad meaning: "a beach at sunset", "indoor", "a dog"): search_images or classify_image
        are right. clip_ok=false: limitations[].kind says why CLIP's similarity score cannot be trusted:
        counting ("three dogs", "how many cups") → ask_image; spatial ("a cat left of a dog") → ask_image;
        compositional ("a red car and a blue truck") → ask_image; negation ("a street with no cars") →
        ask_image; fine_grained ("a border collie", a named person) → ask_image, which needs a gallery of
        labelled photos (the server's --gallery). Over a whole folder use search_images with routed=true.
        """
        from clipaware.query import analyze

        return result(analyze(query).to_dict())

    @tool(read_only)
    def search_images(
        query: Annotated[
            str | None,
            Field(max_length=MAX_QUERY_CHARS, description="Text to look for. Give this or image, not both."),
        ] = None,
        image: Annotated[
            str | None, Field(max_length=4096, description="Search by this image instead (a path, as for ask_image).")
        ] = None,
        k: K = 10,
        routed: Annotated[
            bool,
            Field(
                description="Check each CLIP candidate through the routes the query needs (count, relate, bind, "
                "negate) and keep only those whose answer holds. Slower; use it when check_query says "
                "clip_ok=false."
            ),
        ] = False,
        candidates: Annotated[
            int, Field(ge=1, le=MAX_CANDIDATES, description="With routed=true: how many CLIP hits to check.")
        ] = 50,
        folder: Annotated[str | None, Field(description="Only images under this folder.")] = None,
        glob: Annotated[str | None, Field(description="Only paths matching this glob (* crosses folders).")] = None,
        taken_after: Annotated[str | None, Field(description="EXIF date taken on/after YYYY[-MM[-DD]].")] = None,
        taken_before: Annotated[str | None, Field(description="EXIF date taken on/before YYYY[-MM[-DD]].")] = None,
        min_width: Annotated[int | None, Field(ge=1, description="At least this many pixels wide.")] = None,
        min_height: Annotated[int | None, Field(ge=1, description="At least this many pixels high.")] = None,
        thumbnails: Thumbnails = False,
    ) -> Annotated[CallToolResult, schemas.SearchResult]:
        """Rank the indexed images by CLIP similarity to a text query (or to an image), best first.

        Use for broad meaning over a folder that index_folder has indexed: "a beach at sunset", "food",
        "a snowy mountain". Every text search comes back with the check_query verdict attached ("check"),
        and a "note" when CLIP similarity cannot judge the query: a plain search for "three dogs" ranks
        dog pictures, it does not count them. For counting, spatial, attribute-binding or negation queries
        set routed=true: CLIP proposes candidates and the routes keep those whose answer holds. Not for one
        image (use ask_image or classify_image) nor for look-alikes of an image (find_similar).
        Returns {query, check, note, hits: [{path, score}]}; with routed=true, {query, routes, examined,
        hits: [{path, score, answer, evidence}], skipped, check, note}. Scores are cosines; compare them only
        within one result.
        """
        from clipaware.index.filters import Filters
        from clipaware.query import analyze
        from clipaware.tasks.routed import routed_search
        from clipaware.tasks.search import search

        if (query is None) == (image is None):
            raise UsageError("give a text query or an image to search by (one of them)")
        if query is not None and not query.strip():
            raise UsageError("the search text is empty")
        if routed and query is None:
            raise UsageError("routed=true needs a text query")
        filters = Filters.build(
            path_glob=glob,
            folder=session.folder(folder) if folder else None,
            taken_after=taken_after,
            taken_before=taken_before,
            min_width=min_width,
            min_height=min_height,
        )
        check = analyze(query).to_dict() if query is not None else None
        library = session.indexed_library()
        if routed:
            found = routed_search(
                library, query, k=k, candidates=candidates, kit=session.toolkit(), filters=filters
            ).to_dict()
            document = {**found, "check": check, "note": search_note(check, routed=True)}  # type: ignore[arg-type]
        else:
            source = session.image(image) if image is not None else None
            hits = search(library, text=query, image=source, k=k, filters=filters)
            document = {
                "query": query if query is not None else source,
                "check": check,
                "note": search_note(check, routed=False) if check else None,
                "hits": [h.to_dict() for h in hits],
            }
        previews = _previews(session, [h["path"] for h in document["hits"]]) if thumbnails else []
        return result(document, previews)

    @tool(read_only)
    def ask_image(
        image: ImageRef,
        question: Annotated[
            str,
            Field(
                min_length=1,
                max_length=MAX_QUERY_CHARS,
                description='The question, e.g. "how many cups?", "is the cat left of the dog?", '
                '"a red car and a blue truck", "a street with no cars".',
            ),
        ],
        thumbnail: Annotated[
            bool, Field(description="Also return the image with the boxes the answer rests on drawn over it.")
        ] = False,
    ) -> Annotated[CallToolResult, schemas.AskResult]:
        """Answer a question about one image through the route it needs, with the evidence and boxes.

        Use for what CLIP alone gets wrong (check_query says clip_ok=false): counting ("how many cups?",
        "exactly three dogs"), spatial relations ("a cat left of a dog"), which attribute on which object
        ("a red car and a blue truck"), negation ("a street with no cars"), identity against the server's
        labelled gallery ("is this a border collie?"). A detector counts and locates objects, box geometry
        decides relations, region scoring binds attributes. A query with no limitation gets a calibrated CLIP
        yes/no. Not for OCR, captions or open-ended "describe this photo".
        Returns {query, image, answer, routes, evidence: [{route, text, answer, models, ...}], notes,
        analysis}: answer is an integer for "how many", true/false for yes-no, null for "can't tell" (read
        evidence[].reason), a label for "which/who". Boxes are [x0, y0, x1, y1] in the image's pixels.
        """
        from clipaware.tasks.ask import ask

        path = session.image(image)
        answer = ask(path, question, kit=session.toolkit()).to_dict()
        previews = []
        if thumbnail:
            from clipaware.mcp.thumbnails import boxes_thumbnail

            previews = [boxes_thumbnail(path, answer["evidence"])]
        return result(answer, previews)

    @tool(read_only)
    def classify_image(
        image: ImageRef,
        labels: Annotated[
            list[Annotated[str, Field(max_length=MAX_LABEL_CHARS)]],
            Field(min_length=1, max_length=MAX_LABELS, description='Broad labels, e.g. ["indoor", "outdoor", "food"].'),
        ],
        multi_label: Annotated[
            bool, Field(description="Independent probability per label instead of probabilities summing to 1.")
        ] = False,
    ) -> Annotated[CallToolResult, schemas.ClassifyResult]:
        """Zero-shot classification of one image into broad labels with CLIP (prompt ensemble).

        Use for broad categories ("indoor"/"outdoor", "food"/"document"/"landscape", "cat"/"dog"). Not for
        look-alikes inside one category (breeds, car models, people: ask_image with a gallery), nor for
        counts or positions (ask_image). A softmax always picks one label, even when none fits: with
        multi_label=true each label gets its own probability against generic captions.
        Returns {image, scores: {label: probability}}.
        """
        from clipaware.tasks.classify import classify

        path = session.image(image)
        wanted = tuple(dict.fromkeys(label.strip() for label in labels if label.strip()))
        if not wanted:
            raise UsageError("give at least one non-empty label")
        found = classify(session.library.model, [path], wanted, multi_label=multi_label)
        if found.skipped:
            raise UsageError(f"{image}: {found.skipped[0].reason}")
        return result(found.to_dict()[0])

    @tool(read_only)
    def find_similar(
        image: ImageRef, k: K = 10, thumbnails: Thumbnails = False
    ) -> Annotated[CallToolResult, schemas.SimilarResult]:
        """Indexed images that look most like one image (the image itself left out), best first.

        Use for "more like this" over an indexed folder; CLIP is good at this. Not for exact copies or
        re-encodes of one photo (find_duplicates groups those).
        Returns {image, hits: [{path, score}]} with cosine scores.
        """
        from clipaware.tasks.search import similar

        path = session.image(image)
        hits = [h.to_dict() for h in similar(session.indexed_library(), path, k=k)]
        previews = _previews(session, [h["path"] for h in hits]) if thumbnails else []
        return result({"image": path, "hits": hits}, previews)

    @tool(read_only)
    def find_duplicates(
        threshold: Annotated[
            float,
            Field(
                gt=0.0,
                le=1.0,
                description="Cosine similarity at or above which two images count as near-duplicates "
                "(0.95: re-encodes, resizes, light crops; 0.85-0.95: burst shots of one scene).",
            ),
        ] = 0.95,
    ) -> Annotated[CallToolResult, schemas.DuplicatesResult]:
        """Groups of near-duplicate images in the index: re-encodes, resizes and light crops of one photo.

        Use to clean up a photo folder after index_folder. Not for "similar content" (find_similar).
        Returns {threshold, groups: [{paths, min_score}]}, largest groups first.
        """
        from clipaware.tasks.duplicates import find_duplicates as duplicates

        groups = [g.to_dict() for g in duplicates(session.indexed_library(), threshold)]
        return result({"threshold": threshold, "groups": groups})

    @tool(ToolAnnotations(read_only_hint=False, idempotent_hint=True, open_world_hint=False))
    def list_people() -> Annotated[CallToolResult, schemas.PeopleResult]:
        """The people whose faces the index holds (an index built with faces: `clipaware index FOLDER --faces`).

        Call it before find_person_photos to learn which names exist, and to find unnamed people: a person
        with name=null is named by the user with `clipaware people name ID NAME` (the representative face
        says which photo shows them). People are grouped by face descriptors, never by CLIP.
        Returns {people: [{id, name, faces, images, representative: {face, path, box, score}}], images_scanned,
        faces, small_faces_skipped}, most photos first; people=[] when faces were never indexed.
        """
        from clipaware.tasks.people import people_overview

        # grouping first, as the CLI does: faces a killed run left ungrouped get their person now
        return result(people_overview(session.indexed_library().store).to_dict())

    @tool(read_only)
    def find_person_photos(
        name: Annotated[
            str,
            Field(
                min_length=1,
                max_length=MAX_QUERY_CHARS,
                description='A person\'s name as list_people shows it, or several joined with "and" '
                '("Alice and Bob": photos with all of them).',
            ),
        ],
        text: Annotated[
            str,
            Field(
                max_length=MAX_QUERY_CHARS,
                description='Optional: rank their photos by CLIP for this, e.g. "at the beach".',
            ),
        ] = "",
        k: K = 10,
    ) -> Annotated[CallToolResult, schemas.PersonPhotosResult]:
        """Photos of a named person, found by their face (face descriptors, never CLIP), optionally ranked by CLIP.

        Use for identity: "photos of Alice", "Alice and Bob together", "Alice at the beach" (name="Alice",
        text="at the beach"). Never search_images for a person's name: CLIP does not know who anyone is.
        Names exist only once the user has named people (list_people shows names and IDs; an unnamed person
        is named with `clipaware people name ID NAME`); an unknown name is an error saying so, never a guess.
        Needs an index built with faces (`clipaware index FOLDER --faces`).
        Returns {name, text, hits: [{path, score, ranked_by, faces: [{face, path, box, score}]}]}: ranked_by
        "clip" (cosine to text) or "face" (detector score, when text is empty).
        """
        from clipaware.tasks.people import photos_of, split_names

        query = " ".join([name, text]).strip()
        found = photos_of(session.indexed_library(), split_names(name), query, k=k)
        if found is None:
            raise UsageError("this index has no faces: run `clipaware index FOLDER --faces` first")
        return result({"name": name, "text": text, "hits": [h.to_dict() for h in found[0]]})

    @tool(ToolAnnotations(read_only_hint=False, idempotent_hint=True, open_world_hint=False), on_worker=False)
    async def index_folder(
        path: Annotated[str, Field(min_length=1, max_length=4096, description="A folder (or image) under the roots.")],
        ctx: Context,
    ) -> Annotated[CallToolResult, schemas.IndexResult]:
        """Embed the images under a folder into the server's index so search_images, find_similar and
        find_duplicates can use them. Re-runs only embed new or changed files and drop removed ones.

        Sends progress notifications (files done / files to read) when the client gives a progress token.
        Returns {db, model, added, updated, removed, unchanged, skipped: [{path, reason}], ann}: every file
        that could not be read is listed with its reason.
        """
        from clipaware.tasks.indexing import index_paths

        loop = asyncio.get_running_loop()
        last = [0.0]

        def report(done: int, total: int) -> None:
            # From the indexing thread into the event loop; at most ~10 notifications a second.
            now = time.monotonic()
            if done < total and now - last[0] < 0.1:
                return
            last[0] = now
            sent = asyncio.run_coroutine_threadsafe(
                ctx.report_progress(float(done), float(total), f"{done}/{total} files"), loop
            )
            try:
                sent.result(timeout=10)  # in order, and never more than one notification in flight
            except Exception:  # a client that stopped listening must not stop the indexing
                sent.cancel()

        def work() -> dict[str, Any]:
            return index_paths(session.library, [session.folder(path)], progress=report).to_dict()

        return result(await session.run(work))

    @tool(ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False))
    def doctor() -> Annotated[CallToolResult, schemas.DoctorResult]:
        """Check the installation: versions, CPU features, cached models, and that the default model runs.

        Call it when another tool fails with a model or runtime error. Returns {ok, checks: [{name, ok,
        detail, required}]}; ok=false names what to fix in the failing checks' detail.
        """
        from clipaware.tasks.doctor import run_doctor

        library = session.library
        return result(run_doctor(library.model_name, library.runtime, library.precision).to_dict())


def _previews(session: Session, paths: list[str]) -> list[ContentBlock]:
    """Thumbnails of the first hits; a hit that cannot be read now (or resolves outside the roots) has none."""
    from clipaware.mcp.thumbnails import MAX_THUMBNAILS, thumbnail

    previews: list[ContentBlock] = []
    for path in paths[:MAX_THUMBNAILS]:
        try:
            previews.append(thumbnail(session.image(path)))
        except ClipawareError:
            continue
    return previews
