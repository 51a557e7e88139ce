"""Links in the documentation are well-formed, and every number in the reference pages says where it comes from.

Links (README.md, SKILL.md, docs/*.md): every markdown link ``[text](target)`` and every bare URL is either an
http(s) URL with a host name (a dot in it, no spaces), a relative path to a file or folder that exists in the
repository (an ``#anchor`` after it is allowed), or a same-page ``#anchor``. Anything else fails.

Numbers (the reference pages, :data:`REFERENCE_PAGES`): the page is cut into *units* — a paragraph (lines
between blank lines; a list is one paragraph) or, in a table, one row. A unit that states a number must also
hold its source: an http(s) link, a relative link to a file in the repository (for clipaware's own settings:
the code that holds them), or a reproduction command in inline code (`` `python …` `` or `` `clipaware …` ``).
What is not a claim is removed before looking for numbers: fenced code blocks, inline code, link targets,
headings, ordered-list markers, and digits that are part of a name (ViT-B/32, ResNet-50, DINOv2, 2D).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_PAGES = [
    ROOT / "docs" / name
    for name in ("clip_limitations.md", "alternatives.md", "compositional_reasoning.md", "models.md",
                 "coming-from-the-guide.md")
]  # fmt: skip
LINKED_PAGES = [ROOT / "README.md", ROOT / "SKILL.md", *sorted((ROOT / "docs").glob("*.md"))]

MD_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]*)\)")
BARE_URL = re.compile(r"(?<![(<])\bhttps?://[^\s)>\]`]+")
FENCE = re.compile(r"^```.*?^```[ \t]*$", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`\n]+`")
# A number standing on its own: not glued to letters, slashes or hyphens on either side (so ViT-B/32, ResNet-50,
# DINOv2, 2D, arXiv ids inside links are not claims); decimals, thousands separators and a unit suffix count.
NUMBER = re.compile(r"(?<![\w/.\-])\d+(?:[.,]\d+)*(?:%|k|M|B|ms|px|x|×)?(?![\w/\-])")
COMMAND = re.compile(r"`(?:python|clipaware)\s[^`]*`")


def links_of(text: str) -> list[str]:
    text = FENCE.sub("", text)
    return MD_LINK.findall(text) + BARE_URL.findall(MD_LINK.sub("", text))


def link_problem(target: str, page: Path) -> str | None:
    """Why a link target is not acceptable, or None."""
    if not target:
        return "empty link"
    if target.startswith("#"):
        return None
    parsed = urlparse(target)
    if parsed.scheme in ("http", "https"):
        host = parsed.hostname or ""
        return None if "." in host and " " not in target else f"URL without a proper host: {target}"
    if parsed.scheme or parsed.netloc:
        return f"not an http(s) URL or a relative path: {target}"
    path = (page.parent / parsed.path).resolve()
    return None if path.exists() else f"relative link to a missing file: {target}"


def units_of(text: str) -> list[str]:
    """Paragraphs, and table rows one by one (each row is its own claim)."""
    units: list[str] = []
    for block in re.split(r"\n\s*\n", FENCE.sub("", text)):
        lines = block.strip().splitlines()
        if lines and all(line.lstrip().startswith("|") for line in lines):
            units += lines
        elif lines:
            units.append(block)
    return units


def numbers_in(unit: str) -> list[str]:
    """The numbers a unit states, after removing what is not a claim (see the module docstring)."""
    text = "\n".join(line for line in unit.splitlines() if not line.lstrip().startswith("#"))
    text = MD_LINK.sub(lambda m: m.group(0).split("](")[0], text)  # keep link text, drop the target
    text = BARE_URL.sub("", INLINE_CODE.sub("", text))
    text = re.sub(r"^\s*\d+\.\s", "", text, flags=re.MULTILINE)
    if re.fullmatch(r"[\s|:\-]*", text):  # a table separator row
        return []
    return NUMBER.findall(text)


def has_source(unit: str) -> bool:
    sourced_link = any(
        urlparse(t).scheme in ("http", "https") or (not urlparse(t).scheme and not t.startswith("#"))
        for t in MD_LINK.findall(unit)
    )
    return sourced_link or bool(BARE_URL.search(unit)) or bool(COMMAND.search(unit))


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda p: p.name)
def test_links_are_well_formed(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    problems = [p for p in (link_problem(t, page) for t in links_of(text)) if p]
    assert not problems, f"{page.name}: " + "; ".join(problems)


@pytest.mark.parametrize("page", REFERENCE_PAGES, ids=lambda p: p.name)
def test_every_number_has_a_source_or_a_command(page: Path) -> None:
    assert page.is_file(), f"{page} is a reference page and must exist"
    unsourced = [
        f"{numbers_in(unit)} in: {' '.join(unit.split())[:160]}"
        for unit in units_of(page.read_text(encoding="utf-8"))
        if numbers_in(unit) and not has_source(unit)
    ]
    assert not unsourced, f"{page.name}: numbers without a source link or command:\n" + "\n".join(unsourced)


def test_the_rules_themselves() -> None:
    """The checks catch what they promise (so a passing page means something)."""
    page = ROOT / "docs" / "clip_limitations.md"
    assert link_problem("https://arxiv.org/abs/2310.19785", page) is None
    assert link_problem("https://localhost/x", page) and link_problem("ftp://a.b/c", page)
    assert link_problem("alternatives.md#why", page) is None and link_problem("nope.md", page)
    assert numbers_in("ViT-B/32 and ResNet-50 on DINOv2, `python x.py --k 5`") == []
    assert numbers_in("reaches 56% against 99% for humans (arXiv 2310.19785)") == ["56%", "99%", "2310.19785"]
    assert numbers_in("79k examples, 1423 ms, 18x, 2D boxes") == ["79k", "1423", "18x"]
    assert not has_source("CLIP gets 31.67% on CountBench.")
    assert has_source("31.67% ([Paiss et al.](https://arxiv.org/abs/2302.12066))")
    assert has_source("1423 ms per image: `python benchmarks/cpu_latency.py`")
    rows = units_of("| a | b |\n|---|---|\n| 12 ms | [src](https://x.org) |\n| 13 ms | none |\n")
    assert [bool(numbers_in(r)) and not has_source(r) for r in rows] == [False, False, False, True]
