"""The shape of the house, read from the source with ``ast``: data flows one way, nothing imports back.

Every ``import`` in src/clipaware counts, also those inside functions (a lazy import is still an arrow),
except those under ``if TYPE_CHECKING:`` (annotations only, never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "clipaware"

# Lower floors that must never reach up into the tasks or the doors.
LOWER = ("clipaware.models", "clipaware.index", "clipaware.query")
UPPER = ("clipaware.tasks", "clipaware.cli", "clipaware.library")
# Owned by helper i12b (issue 12, sections 2 and 3): query/tokens <-> lexicon, and models/detect reaching
# tasks.geometry for its box arithmetic (which moves to the ground floor, boxes.py). Nothing else may join.
KNOWN_CYCLES = {frozenset({"clipaware.query.tokens", "clipaware.query.lexicon"})}
KNOWN_UPWARD = {("clipaware.models.detect", "clipaware.tasks.geometry")}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path) -> set[str]:
    """The clipaware modules ``name`` imports (a ``from pkg import sub`` of a submodule names the submodule)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            submodules = {f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES}
            found.update(submodules)
            if len(submodules) < len(node.names):  # names defined in the module itself
                found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the groups of modules that can reach each other (cycles), largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = [0]

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group: set[str] = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(groups, key=len, reverse=True)


def test_the_graph_is_read() -> None:
    assert "clipaware.models.engines" in GRAPH["clipaware.models.clip"]  # a module-level arrow
    assert "clipaware.index.milvus" in GRAPH["clipaware.index.stores"]  # an arrow inside a function
    assert "clipaware.library" not in GRAPH["clipaware.tasks.search"]  # annotations only: not an arrow
    assert "clipaware.cli.output" in GRAPH["clipaware.cli.ask_cmds"]  # from clipaware.cli import output


def test_no_import_cycle() -> None:
    cycles = [frozenset(group) for group in _strongly_connected(GRAPH)]
    unexpected = [sorted(c) for c in cycles if c not in KNOWN_CYCLES]
    assert not unexpected, f"import cycles: {unexpected}"


@pytest.mark.parametrize("lower", LOWER)
def test_lower_floors_never_import_tasks_or_doors(lower: str) -> None:
    upward = {
        (module, target)
        for module, targets in GRAPH.items()
        if module == lower or module.startswith(lower + ".")
        for target in targets
        if any(target == u or target.startswith(u + ".") for u in UPPER)
    }
    assert upward <= KNOWN_UPWARD, f"arrows up from {lower}: {sorted(upward - KNOWN_UPWARD)}"


def test_no_module_global_carries_cli_flags() -> None:
    """No module below the CLI assigns a ``global`` (the old ``_preferred`` runtime did) or reads a
    ``CLIPAWARE_*`` variable: flags and environment arrive as arguments."""
    offenders = []
    for name, path in MODULES.items():
        if name.startswith("clipaware.cli"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                offenders.append(f"{name}: global {', '.join(node.names)}")
            text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""
            if text.startswith("CLIPAWARE_"):
                offenders.append(f"{name}: reads {text}")
    assert not offenders, offenders
