"""``clipaware people``: the faces of an index grouped into people, named, merged, split, forgotten, found.

Faces exist only in an index built with ``index --faces``; every command here reads and writes that
index's own tables and nothing else (face data never leaves the local store).
"""

from __future__ import annotations

from pathlib import Path

import typer

from clipaware.cli import output
from clipaware.cli.app import app
from clipaware.cli.options import DB_OPT, JSON_OPT, K_OPT, STORE_OPT

people_app = typer.Typer(
    help="People in the index (after `index --faces`): list, name, merge, split, forget, photos of someone.",
    no_args_is_help=False,
    invoke_without_command=True,
)
app.add_typer(people_app, name="people")

THRESHOLD_OPT = typer.Option(
    0.6, "--threshold", min=0.01, help="Descriptor distance under which a new face joins a person (dlib: 0.6)."
)


def _open(db: Path | None, store: str | None):  # type: ignore[no-untyped-def]
    from clipaware.index.stores import open_store
    from clipaware.tasks.faces import people_of

    opened = open_store(store or db)
    return opened, people_of(opened)


@people_app.callback()
def people_cmd(
    ctx: typer.Context,
    db: Path | None = DB_OPT,
    store: str | None = STORE_OPT,
    threshold: float = THRESHOLD_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """List the people of the index (most photos first) with a representative face each."""
    if ctx.invoked_subcommand is not None:
        return
    from clipaware.tasks.people import people_overview

    opened, people = _open(db, store)
    with opened:
        output.people_list(people_overview(people, threshold), as_json)


@people_app.command("name")
def name_cmd(
    person: str = typer.Argument(..., help="Person ID (from `clipaware people`) or current name."),
    name: str = typer.Argument(..., help="The name to give, e.g. Alice."),
    db: Path | None = DB_OPT,
    store: str | None = STORE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Name (or rename) a person; the name then works in `ask` and `search --routed`."""
    from clipaware.tasks.people import name_person

    opened, people = _open(db, store)
    with opened:
        row = name_person(people, person, name)
    output.person_changed(f"person {row.id} is now {row.name}", {"id": row.id, "name": row.name}, as_json)


@people_app.command("merge")
def merge_cmd(
    keep: str = typer.Argument(..., help="The person (ID or name) to keep."),
    others: list[str] = typer.Argument(..., help="The people (IDs or names) to fold into it."),
    db: Path | None = DB_OPT,
    store: str | None = STORE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Merge people who are one person (the clustering split them)."""
    from clipaware.tasks.people import merge_people

    opened, people = _open(db, store)
    with opened:
        row = merge_people(people, keep, others)
    output.person_changed(f"merged into person {row.id} ({row.name or 'unnamed'})", {"id": row.id, "name": row.name},
                          as_json)  # fmt: skip


@people_app.command("split")
def split_cmd(
    person: str = typer.Argument(..., help="The person (ID or name) the faces belong to now."),
    faces: list[int] = typer.Argument(..., help="Face IDs (from `clipaware people faces ID`) to make a new person."),
    name: str | None = typer.Option(None, "--name", help="Name the new person at once."),
    db: Path | None = DB_OPT,
    store: str | None = STORE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Move some faces of a person into a new person (the clustering joined two people)."""
    from clipaware.tasks.people import split_person

    opened, people = _open(db, store)
    with opened:
        row = split_person(people, person, faces, name)
    output.person_changed(f"new person {row.id} ({row.name or 'unnamed'}) with {len(faces)} faces",
                          {"id": row.id, "name": row.name, "faces": list(faces)}, as_json)  # fmt: skip


@people_app.command("faces")
def faces_cmd(
    person: str = typer.Argument(..., help="Person ID or name."),
    db: Path | None = DB_OPT,
    store: str | None = STORE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """The faces of one person: face ID, photo and box (what `split` takes)."""
    from clipaware.tasks.people import person_faces

    opened, people = _open(db, store)
    with opened:
        row, faces = person_faces(people, person)
    output.person_faces(row, faces, as_json)


@people_app.command("forget")
def forget_cmd(
    person: str = typer.Argument(..., help="Person ID or name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    db: Path | None = DB_OPT,
    store: str | None = STORE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Delete a person and every face descriptor of theirs from the index (their photos stay indexed)."""
    from clipaware.tasks.people import forget_person, resolve_person

    opened, people = _open(db, store)
    with opened:
        row = resolve_person(people, person)
        label = f"person {row.id}" + (f" ({row.name})" if row.name else "")
        if not yes and not typer.confirm(f"delete {label} and all their face data?", default=False):
            raise typer.Exit(1)
        deleted = forget_person(people, row.id)
    output.person_changed(f"forgot {label}: {deleted} face descriptors deleted",
                          {"id": row.id, "name": row.name, "faces_deleted": deleted}, as_json)  # fmt: skip


@people_app.command("photos")
def photos_cmd(
    person: str = typer.Argument(..., help="A name, or several joined with 'and' (photos with all of them)."),
    text: str | None = typer.Option(
        None, "--text", help="Rank the photos by CLIP for these words, e.g. 'at the beach'."
    ),
    k: int = K_OPT,
    db: Path | None = DB_OPT,
    store: str | None = STORE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Photos of a named person (their faces, not CLIP), optionally ranked by CLIP for --text."""
    from clipaware.library import Library
    from clipaware.tasks.people import photos_of, split_names

    names = split_names(person)
    query = " ".join([person, text or ""]).strip()
    with Library.open(store or db) as library:
        found = photos_of(library, names, query, k=k)
    if found is None:
        from clipaware.errors import UsageError

        raise UsageError("this index has no faces: run `clipaware index FOLDER --faces` first")
    hits, rest = found
    title = f"photos of {person}" + (f", ranked by CLIP for {rest!r}" if rest else "")
    output.hits(hits, as_json, title)  # type: ignore[arg-type]
