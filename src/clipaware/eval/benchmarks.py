"""Loaders for real compositional benchmarks: What'sUp, SugarCrepe and CountBench, in their released formats.

The shapes world shows *that* routing helps on toy scenes; these benchmarks check the same two columns on
real photographs and real models. Users download the data themselves (licences, size); clipaware only reads
the files as their authors released them and turns every item into the same multiple-choice
:class:`~clipaware.eval.shapes.probes.Probe` that the shapes world uses, so one evaluator scores all of them.

Formats (first caption option is the true one unless said otherwise):

- **What'sUp** (Kamath et al., 2023, github.com/amitakamath/whatsup_vlms): ``controlled_images_dataset.json``
  and ``controlled_clevr_dataset.json`` are lists of ``{"image_path", "caption_options": [true, 3 foils]}``
  with images under ``controlled_images/`` and ``controlled_clevr/``; ``coco_qa_{one,two}_obj.json`` and
  ``vg_qa_{one,two}_obj.json`` are lists of ``[image_id, true caption, foil]`` with images in
  ``val2017/{id:012d}.jpg`` and ``vg_images/{id}.jpg``.
- **SugarCrepe** (Hsieh et al., 2023, github.com/RAIVNLab/sugar-crepe): seven files
  ``{add,replace,swap}_{att,obj,rel}.json``, each ``{"<id>": {"filename", "caption", "negative_caption"}}``;
  images are COCO val2017.
- **CountBench** (Paiss et al., 2023): a JSON list of ``{"image_url", "text", "number"}`` (2–10). Images are
  fetched by the user; an entry is found by its ``image_path``/``image`` field, else as
  ``images/<index>.<ext>``, else under ``images/`` by the URL's file name. Candidates are the caption with its
  number replaced by each of two … ten, as in the paper.

Missing images are skipped and counted (CountBench's URLs rot); a folder with none of the files is an error
that says what was expected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from clipaware.errors import UsageError

BENCHMARKS: tuple[str, ...] = ("whatsup", "sugarcrepe", "countbench")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")

WHATSUP_FILES: dict[str, str] = {
    "controlled_images": "controlled_images_dataset.json",
    "controlled_clevr": "controlled_clevr_dataset.json",
    "coco_qa_one_obj": "coco_qa_one_obj.json",
    "coco_qa_two_obj": "coco_qa_two_obj.json",
    "vg_qa_one_obj": "vg_qa_one_obj.json",
    "vg_qa_two_obj": "vg_qa_two_obj.json",
}
SUGARCREPE_SUBSETS: tuple[str, ...] = (
    "add_att",
    "add_obj",
    "replace_att",
    "replace_obj",
    "replace_rel",
    "swap_att",
    "swap_obj",
)
COUNT_WORDS: tuple[str, ...] = tuple("zero one two three four five six seven eight nine ten".split())
COUNTBENCH_NUMBERS = range(2, 11)

# Why the routed column is empty on real benchmarks. Their questions are free text with no parse attached,
# so routing them means running the analyzer and real detectors (`clipaware ask`) per caption; that is
# not wired into the evaluator yet. SugarCrepe's object subsets need no route: naming things is CLIP's job.
BENCHMARK_ROUTE_NOTE = "routing free-text captions (clipaware ask per candidate) is not wired into eval yet"
BENCHMARK_ROUTE_NOTES: dict[str, str] = {
    subset: "no route: CLIP is the right tool here" for subset in ("add_obj", "replace_obj", "swap_obj")
}


@dataclass(frozen=True)
class BenchmarkItem:
    """One multiple-choice item: an image file, candidate captions and the index of the true one."""

    subset: str
    image_path: Path
    texts: tuple[str, ...]
    answer: int
    meta: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class BenchmarkData:
    """The items found per subset plus how many were skipped (missing image or unusable entry) and why."""

    name: str
    subsets: dict[str, list[BenchmarkItem]]
    skipped: dict[str, int]

    def items(self) -> Iterator[BenchmarkItem]:
        for items in self.subsets.values():
            yield from items


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: not a readable JSON file ({exc})") from exc


def _first_existing(candidates: list[Path]) -> Path | None:
    return next((p for p in candidates if p.is_file()), None)


def _require_dir(data_dir: Path, name: str) -> Path:
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise UsageError(f"--data {data_dir}: not a folder; download {name} there first (see docs/shapes.md)")
    return data_dir


def load_whatsup(data_dir: str | Path) -> BenchmarkData:
    """What'sUp subsets present in ``data_dir`` (annotation JSONs at the top or under ``data/``)."""
    root = _require_dir(Path(data_dir), "What'sUp")
    subsets: dict[str, list[BenchmarkItem]] = {}
    skipped: dict[str, int] = {}
    for subset, filename in WHATSUP_FILES.items():
        annotation = _first_existing([root / filename, root / "data" / filename])
        if annotation is None:
            continue
        base = annotation.parent
        items, missing = [], 0
        for entry in _read_json(annotation):
            if subset.startswith("controlled"):
                rel = Path(entry["image_path"])
                folder = subset  # controlled_images/ or controlled_clevr/
                image = _first_existing([base / rel, root / rel, base / folder / rel.name, root / folder / rel.name])
                texts = tuple(entry["caption_options"])
            else:
                image_id, true, foil = entry[0], entry[1], entry[2]
                name = f"val2017/{int(image_id):012d}.jpg" if subset.startswith("coco") else f"vg_images/{image_id}.jpg"
                image = _first_existing([base / name, root / name])
                texts = (true, foil)
            if image is None:
                missing += 1
                continue
            items.append(BenchmarkItem(subset, image, texts, 0))
        subsets[subset] = items
        skipped[subset] = missing
    if not subsets:
        expected = ", ".join(WHATSUP_FILES.values())
        raise UsageError(f"{root}: no What'sUp annotation file found; expected one of {expected}")
    return BenchmarkData("whatsup", subsets, skipped)


def load_sugarcrepe(data_dir: str | Path, images: str | Path | None = None) -> BenchmarkData:
    """SugarCrepe subsets in ``data_dir`` (or ``data_dir/data``); COCO val2017 images in ``images``.

    Without ``images`` the images are looked for in ``data_dir/val2017``, ``data_dir/images`` and
    ``data_dir`` itself.
    """
    root = _require_dir(Path(data_dir), "SugarCrepe")
    image_dirs = [Path(images)] if images else [root / "val2017", root / "images", root]
    subsets: dict[str, list[BenchmarkItem]] = {}
    skipped: dict[str, int] = {}
    for subset in SUGARCREPE_SUBSETS:
        annotation = _first_existing([root / f"{subset}.json", root / "data" / f"{subset}.json"])
        if annotation is None:
            continue
        items, missing = [], 0
        for key, entry in _read_json(annotation).items():
            image = _first_existing([d / entry["filename"] for d in image_dirs])
            if image is None:
                missing += 1
                continue
            texts = (entry["caption"], entry["negative_caption"])
            items.append(BenchmarkItem(subset, image, texts, 0, {"id": key}))
        subsets[subset] = items
        skipped[subset] = missing
    if not subsets:
        expected = ", ".join(f"{s}.json" for s in SUGARCREPE_SUBSETS)
        raise UsageError(f"{root}: no SugarCrepe file found; expected some of {expected}")
    return BenchmarkData("sugarcrepe", subsets, skipped)


def _number_pattern(number: int) -> re.Pattern[str]:
    return re.compile(rf"\b({COUNT_WORDS[number]}|{number})\b", re.IGNORECASE)


def count_candidates(text: str, number: int) -> tuple[str, ...] | None:
    """The caption with its count replaced by each of two … ten (None if the count is not in the text)."""
    pattern = _number_pattern(number)
    match = pattern.search(text)
    if match is None:
        return None
    digits = match.group(0).isdigit()
    out = []
    for n in COUNTBENCH_NUMBERS:
        word = str(n) if digits else COUNT_WORDS[n]
        if match.group(0)[0].isupper():
            word = word.capitalize()
        out.append(text[: match.start()] + word + text[match.end() :])
    return tuple(out)


def _countbench_image(root: Path, index: int, entry: dict) -> Path | None:
    for key in ("image_path", "image", "file_name", "filename"):
        if isinstance(entry.get(key), str):
            found = _first_existing([root / entry[key], root / "images" / entry[key]])
            if found:
                return found
    candidates = [root / "images" / f"{index}{ext}" for ext in IMAGE_EXTENSIONS]
    url = entry.get("image_url")
    if isinstance(url, str) and url:
        candidates.append(root / "images" / Path(urlparse(url).path).name)
    return _first_existing(candidates)


def load_countbench(data_dir: str | Path) -> BenchmarkData:
    """CountBench from ``data_dir/CountBench.json`` (or the one ``*.json`` there) and the user's images."""
    root = _require_dir(Path(data_dir), "CountBench")
    annotation = _first_existing([root / "CountBench.json", root / "countbench.json"])
    if annotation is None:
        jsons = sorted(root.glob("*.json"))
        if len(jsons) != 1:
            raise UsageError(f"{root}: expected CountBench.json (a list of image_url, text, number entries)")
        annotation = jsons[0]
    items, missing, unusable = [], 0, 0
    for index, entry in enumerate(_read_json(annotation)):
        number = int(entry["number"])
        texts = count_candidates(entry["text"], number) if number in COUNTBENCH_NUMBERS else None
        if texts is None:
            unusable += 1
            continue
        image = _countbench_image(root, index, entry)
        if image is None:
            missing += 1
            continue
        items.append(BenchmarkItem("countbench", image, texts, number - COUNTBENCH_NUMBERS.start, {"index": index}))
    return BenchmarkData("countbench", {"countbench": items}, {"countbench": missing + unusable})


def load_benchmark(name: str, data_dir: str | Path, images: str | Path | None = None) -> BenchmarkData:
    """Dispatch by benchmark name (``whatsup``, ``sugarcrepe``, ``countbench``)."""
    if name == "whatsup":
        return load_whatsup(data_dir)
    if name == "sugarcrepe":
        return load_sugarcrepe(data_dir, images)
    if name == "countbench":
        return load_countbench(data_dir)
    raise UsageError(f"unknown benchmark {name!r}; expected one of {', '.join(BENCHMARKS)}")
