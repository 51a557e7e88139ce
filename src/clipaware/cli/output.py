"""The one presenter: every result the CLI shows goes through here, as rich text for people or JSON.

Tasks return frozen dataclasses with ``to_dict()``; this module turns them into lines (as llm's
``cli.py`` prints what its library returns). User text (paths, queries, labels, reasons) is always
printed literally: it goes through :func:`lit` inside markup, or is printed with ``markup=False``, so
``[bold]`` in a file name is shown, never interpreted.

Imports stay light (rich only, results by duck type) so ``--help`` and ``check`` never import torch.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import warnings
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from clipaware.tasks.results import answer_words

_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with the bytes of a file name that is not valid UTF-8 shown as ``\\xNN`` (as ``ls -b`` does).

    Python hands such names over with surrogate escapes, which no terminal encoding can write: printing
    one raised UnicodeEncodeError. Every other character is left exactly as it is.
    """
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class _LiteralConsole(Console):
    """A console that never rewrites user text: no ``:cat:`` emoji codes, no highlighting, and lone
    surrogates (non-UTF-8 file names) shown as ``\\xNN`` instead of failing the write."""

    def print(self, *objects: Any, **options: Any) -> None:
        options.setdefault("emoji", False)
        super().print(*(printable(o) if isinstance(o, str) else o for o in objects), **options)


out = _LiteralConsole(highlight=False, soft_wrap=True, emoji=False)
err = _LiteralConsole(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def lit(text: object) -> str:
    """User text made safe to embed in rich markup: shown exactly as it is."""
    return escape(str(text))


def _json(payload: Any, indent: int | None) -> str:
    """JSON with lone surrogates (non-UTF-8 file names) as ``\\udcNN`` escapes: valid UTF-8 output, and
    ``os.fsencode(json.loads(...))`` gives back the name's exact bytes. NaN and infinities become null."""
    text = json.dumps(_finite(payload), ensure_ascii=False, indent=indent, allow_nan=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def emit_json(payload: Any) -> None:
    """Print one JSON document on stdout (what ``--json`` promises programs)."""
    sys.stdout.write(_json(payload, 2) + "\n")


def json_lines(lines: Iterable[str]) -> None:
    """JSON lines already encoded (by worker processes, for ``check --file``), written as they come."""
    write = sys.stdout.write
    for line in lines:
        write(line + "\n")


def error(message: object) -> None:
    """The one-line failure every command ends with when it cannot go on ("Error:", as click's usage errors)."""
    err.print(f"[bold red]Error:[/] {lit(message)}")


def unexpected(exc: BaseException) -> None:
    """A bug, not a user error: one line that says what failed and how to see more."""
    where = ""
    tb = exc.__traceback__
    while tb is not None:  # the innermost frame in clipaware's own code names the place
        if "clipaware" in tb.tb_frame.f_code.co_filename:
            where = f" in {tb.tb_frame.f_code.co_name}"
        tb = tb.tb_next
    message = str(exc).splitlines()[0] if str(exc) else ""
    err.print(
        f"[bold red]error:[/] unexpected {type(exc).__name__}{lit(where)}: {lit(message[:300])} "
        f"(a bug; run again with --debug for the traceback)"
    )


def interrupted() -> None:
    err.print("interrupted")


def version(number: str) -> None:
    out.print(f"clipaware {number}", markup=False)


def skipped(items: Iterable[Any]) -> None:
    """Files a command left out, each with its reason, on stderr."""
    for item in items:
        err.print(f"skipped {item.path}: {item.reason}", markup=False)


# ------------------------------------------------------------------------------------------ library
def index_report(report: Any, as_json: bool) -> None:
    if as_json:
        emit_json(report.to_dict())
        return
    if not report.written:
        out.print(f"no images found, so no index written (it would be {lit(report.db)})")
        return
    out.print(
        f"[bold]{lit(report.db)}[/] ({lit(report.model)}): [green]{report.added} added[/], {report.updated} updated, "
        f"{report.moved} moved, {report.removed} removed, {report.unchanged} unchanged, "
        f"[{'yellow' if report.skipped else 'default'}]{len(report.skipped)} skipped[/]"
    )
    for item in report.skipped:
        out.print(f"  [yellow]skipped[/] {lit(item.path)}: {lit(item.reason)}")
    if getattr(report, "faces", None) is not None:
        face_report(report.faces)


def hits(found: list[Any], as_json: bool, title: str) -> None:
    """Ranked hits: plain lines, so paths are never truncated and stay greppable."""
    if as_json:
        emit_json([h.to_dict() for h in found])
        return
    if not found:
        out.print("no results (is the index empty?)")
        return
    out.print(f"[bold]{lit(title)}[/]")
    for rank, hit in enumerate(found, 1):
        out.print(f"{rank:>3}  {hit.score:6.3f}  {hit.path}", markup=False)


def paths(found: Iterable[Any]) -> None:
    """Only the paths, one per line, nothing else on stdout: ``clipaware search -l cats | xargs open``."""
    for hit in found:
        sys.stdout.write(f"{hit.path}\n")


def routed_hits(result: Any, text: str, as_json: bool) -> None:
    if as_json:
        emit_json(result.to_dict())
        return
    out.print(
        f"[bold]{lit(repr(text))}[/] routes: {lit(', '.join(result.routes))}; {result.examined} candidates checked"
    )
    for rank, hit in enumerate(result.hits, 1):
        out.print(f"{rank:>3}  {hit.score:6.3f}  {hit.path}  answer={hit.answer}", markup=False)
    if not result.hits:
        out.print("no candidate passed the routed check")
    skipped(result.skipped)


def duplicate_groups(groups: list[Any], threshold: float, as_json: bool) -> None:
    if as_json:
        emit_json([g.to_dict() for g in groups])
        return
    if not groups:
        out.print(f"no near-duplicates at threshold {threshold}")
    for number, group in enumerate(groups, 1):
        out.print(f"[bold]group {number}[/] ({len(group.paths)} images, min similarity {group.min_score:.3f})")
        for path in group.paths:
            out.print(f"  {path}", markup=False)


def classification(result: Any, as_json: bool) -> None:
    if as_json:
        emit_json(result.to_dict())
        return
    kind = "independent probabilities" if result.multi_label else "probabilities summing to 1"
    for scores in result.results:
        ranked = sorted(scores.scores.items(), key=lambda kv: -kv[1])
        out.print(f"[bold]{lit(scores.image)}[/]: {lit(scores.best)}  [dim]({kind})[/]")
        for label, prob in ranked:
            out.print(f"  {prob:6.1%}  {label}", markup=False)
    skipped(result.skipped)


# -------------------------------------------------------------------------------------- ask, diagnose
def ask_answer(result: Any, as_json: bool) -> None:
    if as_json:
        emit_json(result.to_dict())
        return
    out.print(f"[bold]{lit(result.query)}[/] → [bold cyan]{lit(answer_words(result.answer))}[/]")
    for step in result.steps:
        reason = step.evidence.get("reason", "")
        models = f" [dim]({lit(', '.join(step.models))})[/]" if step.models else ""
        line = f"  {lit(step.route)}: {lit(repr(step.text))} → {lit(answer_words(step.answer))}{models}"
        out.print(line + (f" — {lit(reason)}" if reason else ""))
        for label, score, box in evidence_boxes(step.evidence):
            corners = ", ".join(f"{v:.0f}" for v in box)
            out.print(f"      {label} {score:.2f} at [{corners}]", markup=False)
    for note in result.notes:
        out.print(f"  [yellow]note[/]: {lit(note)}")


# The evidence keys that hold the boxes a route decided on (count: the ones it counted; relate: the pair it
# judged; negate: what it found of the excluded thing; bind: each phrase's region).
BOX_KEYS = ("counted", "pair", "found")


def evidence_boxes(evidence: dict[str, Any]) -> list[tuple[str, float, list[float]]]:
    """(label, score, [x0, y0, x1, y1]) of each box a route's answer rests on."""
    boxes = [
        (str(d["label"]), float(d.get("score", 0.0)), d["box"])
        for key in BOX_KEYS
        for d in evidence.get(key) or []
        if isinstance(d, dict) and "box" in d
    ]
    for binding in evidence.get("bindings") or []:
        region = binding.get("region") if isinstance(binding, dict) else None
        if region:
            boxes.append(
                (str(binding.get("phrase", region.get("label", ""))), float(region.get("score", 0.0)), region["box"])
            )
    return boxes


def diagnosis(result: Any, as_json: bool) -> None:
    if as_json:
        emit_json(result.to_dict())
        return
    c = result.clip
    out.print(f"[bold]{lit(result.query)}[/] on {lit(result.image)}")
    out.print(f"  CLIP {lit(c.describe())}")
    for probe in result.probes:
        flag = f"[red]{probe.verdict}[/]" if probe.preferred or probe.indistinct else probe.verdict
        out.print(f"  probe {probe.kind}: {lit(repr(probe.text))} {probe.similarity:.3f} (Δ {probe.delta:+.3f}) {flag}")
    kinds = ", ".join(f"{lim.kind.value} ({', '.join(lim.evidence)})" for lim in result.analysis.limitations)
    out.print(f"  analyzer: {lit(kinds or 'CLIP is appropriate')}")
    routes = ", ".join(s.route for s in result.routed.steps)
    out.print(f"  routed answer: {lit(answer_words(result.routed.answer))} via {lit(routes)}")
    out.print(f"  {lit(result.explanation)}")
    if result.picture:
        out.print(f"  picture: {lit(result.picture)}")


# ------------------------------------------------------------------------------------ models, doctor
def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.0f} MB" if size >= 1e6 else f"{size / 1e3:,.0f} kB"


def _engine_line(engine: Any) -> str:
    towers = " + ".join(engine.towers) or "no tower files"
    state = "ready" if engine.current else "stale (other versions; `clipaware models prune` removes it)"
    return f"{towers}, {_megabytes(engine.size_bytes)}, {state}"


def model_guide(entries: list[Any], as_json: bool, others: list[Any] = ()) -> None:  # type: ignore[assignment]
    """One block per model, its name on a line of its own: the name is what people copy, so it is never
    cut to fit a table column (at 80 or 120 columns it was). Exported ONNX engines are listed under their
    model; those of models outside the guide (local folders) follow in the text output."""
    if as_json:  # one entry per guide model, as before; each with its "engines"
        emit_json([e.to_dict() for e in entries])
        return
    for number, e in enumerate(entries):
        marks = (["default"] if e.default else []) + ["cached" if e.cached else "not cached"]
        if number:
            out.print()
        out.print(f"[bold]{lit(e.spec.name)}[/]  ({', '.join(marks)})")
        dims = f"{e.spec.embedding_dim}-d, " if e.spec.embedding_dim else ""
        out.print(f"  {lit(e.spec.family)}, {e.spec.role}, {dims}{e.spec.gflops:g} GFLOPs/image", markup=False)
        out.print(f"  good at: {e.spec.good_at}", markup=False)
        out.print(f"  bad at:  {e.spec.bad_at}", markup=False)
        for engine in e.engines:
            out.print(f"  engine:  {_engine_line(engine)}", markup=False)
    if others:
        out.print()
        out.print("[bold]other ONNX engines[/]")
        for engine in others:
            out.print(f"  {engine.model}: {_engine_line(engine)}", markup=False)


def pruned(removed: list[Any], as_json: bool) -> None:
    if as_json:
        emit_json({"removed": [e.to_dict() for e in removed]})
        return
    if not removed:
        out.print("nothing to prune: every cached engine matches the installed versions")
    for engine in removed:
        out.print(f"removed {engine.model} engine ({_megabytes(engine.size_bytes)}): {engine.path}", markup=False)


def pulled(name: str, folder: Any, as_json: bool) -> None:
    if as_json:
        emit_json({"model": name, "path": str(folder)})
    else:
        out.print(f"{name} is ready at {folder}", markup=False)


def doctor_report(report: Any, as_json: bool) -> None:
    if as_json:
        emit_json(report.to_dict())
        return
    for check in report.checks:
        mark = "[green]✓[/]" if check.ok else ("[red]✗[/]" if check.required else "[yellow]![/]")
        out.print(f"{mark} [bold]{lit(check.name)}[/]: {lit(check.detail)}")
    out.print("[green]ready[/]" if report.ok else "[red]not ready[/]: fix the ✗ lines above")


# --------------------------------------------------------------------------------------------- check
CHECK_TITLES = {
    "counting": "counting (how many)",
    "fine_grained": "fine-grained identity (people, models, breeds, species, artworks, fonts)",
    "spatial": "spatial relations and frame positions",
    "compositional": "attribute / role binding",
    "negation": "negation and exclusion",
}


def render_analysis(analysis: Any, check_all: bool = False) -> str:
    """Rich-markup text: a verdict line, then each limitation (or every check with ``check_all``)."""
    from clipaware.query.analysis import LimitationKind

    lines: list[str] = []
    query = lit(analysis.query)
    if analysis.clip_ok is None:
        lines.append(f"❔ No verdict for: [bold]{query}[/]  (language: {lit(analysis.language)})")
    elif analysis.clip_ok:
        lines.append(f"✅ CLIP is appropriate for: [bold]{query}[/]")
    else:
        kinds = ", ".join(kind.value for kind in analysis.kinds)
        lines.append(f"❌ CLIP is the wrong tool for: [bold]{query}[/]  ({kinds})")
    by_kind = {limitation.kind: limitation for limitation in analysis.limitations}
    for kind in LimitationKind:
        limitation = by_kind.get(kind)
        if limitation is None:
            if check_all:
                lines.append(f"  ✅ pass  {CHECK_TITLES[kind.value]}")
            continue
        evidence = ", ".join(f'"{lit(text)}"' for text in limitation.evidence)
        lines.append(f"  ❌ {'fail  ' if check_all else ''}[bold]{kind.value}[/]: {CHECK_TITLES[kind.value]}")
        lines.append(f"     evidence:   {evidence}")
        lines.append(f"     why:        {lit(limitation.explanation)}")
        lines.append(f"     instead:    {lit(limitation.suggestion)}")
    for warning in analysis.parse.warnings:
        lines.append(f"  ⚠ {lit(warning)}")
    return "\n".join(lines)


def analysis(result: Any, as_json: bool, check_all: bool = False) -> None:
    if as_json:
        emit_json(result.to_dict())
    else:
        out.print(render_analysis(result, check_all=check_all))


def render_analyzer_scores(report: Any) -> str:
    """The analyzer's scores on labelled queries as a plain-text table for people."""
    lines = [f"{'label':<15}{'precision':>10}{'recall':>10}{'f1':>8}{'tp':>6}{'fp':>6}{'fn':>6}"]

    def cell(value: float | None, width: int) -> str:  # "–": undefined (never predicted / no examples)
        return f"{'–':>{width}}" if value is None else f"{value:>{width}.3f}"

    for s in report.scores:
        scores = cell(s.precision, 10) + cell(s.recall, 10) + cell(s.f1, 8)
        lines.append(f"{s.label:<15}{scores}{s.tp:>6}{s.fp:>6}{s.fn:>6}")
    lines.append(f"macro-F1: {report.macro_f1:.3f}   queries: {report.n_queries}")
    lines.append(
        f"limitation-free queries wrongly flagged: {report.n_clean_flagged}/{report.n_clean} "
        f"({report.false_flag_share:.1%})"
    )
    if report.misses:
        lines.append(f"misses ({len(report.misses)}):")
        for miss in report.misses:
            parts = []
            if miss.missing:
                parts.append("missed " + ",".join(miss.missing))
            if miss.extra:
                parts.append("extra " + ",".join(miss.extra))
            lines.append(f"  {miss.query!r}: {'; '.join(parts)}")
    return "\n".join(lines)


def analyzer_scores(report: Any, as_json: bool) -> None:
    if as_json:
        emit_json(report.to_dict())
    else:
        out.print(render_analyzer_scores(report), markup=False)


# ---------------------------------------------------------------------------------------------- eval
def format_accuracy(accuracy: Any) -> str:
    """``0.62 [0.55–0.69]`` for people; "not available" when the column was not measured."""
    if accuracy is None:
        return "not available"
    lo, hi = accuracy.interval
    return f"{accuracy.value:.2f} [{lo:.2f}–{hi:.2f}]"


def eval_report(report: Any, as_json: bool) -> None:
    if as_json:
        emit_json(report.to_dict())
        return
    table = Table(title=f"{lit(report.benchmark)} · model {lit(report.model)}", show_edge=False)
    for column in ("task", "n", "chance", "CLIP-only [95% CI]", "routed [95% CI]"):
        table.add_column(column, justify="left" if column == "task" else "right")
    for row in report.tasks:
        table.add_row(
            lit(row.task), str(row.n), f"{row.chance:.2f}", format_accuracy(row.clip_only), format_accuracy(row.routed)
        )
    out.print(table)
    for row in report.tasks:
        if row.routed is None and row.routed_note:
            out.print(f"[dim]{lit(row.task)}: routed not available ({lit(row.routed_note)})[/]")
        if row.skipped:
            err.print(f"{row.task}: skipped {row.skipped} items (image missing or entry unusable)", markup=False)


# ------------------------------------------------------------------------------------------- people
def face_report(report: Any) -> None:
    g = report.grouping
    small = f", {report.small} too small (skipped)" if report.small else ""
    out.print(
        f"faces ({lit(report.detector)}): {report.scanned} images scanned, {report.copied} copied from identical "
        f"files, {report.faces} faces found{small}; {g.joined} joined known people, {g.new_people} new people"
    )
    for item in report.skipped:
        out.print(f"  [yellow]skipped[/] {lit(item.path)}: {lit(item.reason)}")


def people_list(overview: Any, as_json: bool) -> None:
    if as_json:
        emit_json(overview.to_dict())
        return
    found, counts = overview.people, overview.counts
    if not found:
        out.print("no people yet: index with `clipaware index FOLDER --faces`")
        return
    out.print(f"[bold]{len(found)} people[/] ({counts['faces']} faces in {counts['images_scanned']} images scanned)")
    for person in found:
        name = person.name if person.name is not None else "(unnamed)"
        face = person.representative
        where = f"  e.g. {face.path} at {list(face.box)}" if face is not None else ""
        out.print(f"{person.id:>5}  {name}  {person.faces} faces in {person.images} images{where}", markup=False)


def person_faces(person: Any, faces: list[Any], as_json: bool) -> None:
    if as_json:
        emit_json({"id": person.id, "name": person.name, "faces": [f.to_dict() for f in faces]})
        return
    out.print(f"[bold]person {person.id}[/] {lit(person.name or '(unnamed)')}: {len(faces)} faces")
    for face in faces:
        out.print(f"  face {face.id:>5}  {face.path}  box {list(face.box)}  score {face.score:.2f}", markup=False)


def person_changed(message: str, payload: dict[str, object], as_json: bool) -> None:
    if as_json:
        emit_json(payload)
        return
    out.print(message, markup=False)


def status(message: str) -> None:
    """A one-line note on stderr before a long silent step (so people know it is working, and programs'
    stdout stays clean)."""
    err.print(f"[dim]{lit(message)}[/]")


def scenes_written(result: Any, as_json: bool) -> None:
    if as_json:
        emit_json(result.to_dict())
        return
    out.print(f"wrote {len(result.files)} scenes to {result.folder}; what each shows: {result.listing}", markup=False)
    for path, scene in zip(result.files, result.scenes, strict=True):
        shows = ", ".join(f"{o.size} {o.colour} {o.shape}" for o in sorted(scene.objects, key=lambda o: o.centre))
        out.print(f"  {path.name}: {shows}", markup=False)


class _StatusHandler(logging.Handler):
    """clipaware's log records (INFO and up) as one dim status line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        status(record.getMessage())


def _note_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one ``note:`` line, without the Python source line under it."""
    err.print(f"[yellow]note[/]: {lit(message)}")


def show_notices() -> None:
    """Route long-step status lines and warnings (a refused fast path) to stderr as plain one-liners."""
    logger = logging.getLogger("clipaware")
    if not any(isinstance(h, _StatusHandler) for h in logger.handlers):
        logger.addHandler(_StatusHandler())
    logger.setLevel(logging.INFO)
    logger.propagate = False
    warnings.showwarning = _note_warning


def serving_status(message: str) -> None:
    """What ``serve`` is doing before it listens (stderr: stdout stays for the address)."""
    err.print(message, markup=False)


def serving(url: str, token: str | None, location: str, roots: Iterable[Any]) -> None:
    """Where the page is, once the server listens (with the token in the URL the page trades for a cookie)."""
    out.print(f"clipaware serves {lit(location)}")
    for root in roots:
        out.print(f"  images under {lit(root)}")
    shown = f"{url}?token={token}" if token else url
    out.print(f"open [bold]{lit(shown)}[/] (API docs at {lit(url)}docs); Ctrl-C stops")
