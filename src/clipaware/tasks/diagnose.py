"""``clipaware diagnose``: explain a surprising CLIP result for one image and one query, with evidence.

Four kinds of evidence, each a person can check:

1. CLIP's score for the query, placed against a null distribution of unrelated captions for the same
   image (is it a match at all?).
2. Contrastive probes: the query with left/right swapped, the attributes swapped, the number changed,
   the negation dropped. If CLIP gives the probe about the same score as the query, CLIP cannot tell
   the difference the query depends on — which is the usual explanation.
3. The analyzer's verdict (which limitation, which words) and the routed answer from ``ask``.
4. A picture: the routes' detected boxes beside a patch–text similarity heat-map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from clipaware.models.detect import ImageInput, as_pil
from clipaware.query import QueryAnalysis, analyze
from clipaware.tasks.ask import AskAnswer, Toolkit, ask
from clipaware.tasks.calibrate import CalibratedScore, calibrated_scores
from clipaware.tasks.results import answer_words

# Below this cosine gap CLIP does not separate query and probe: ViT-B/32 cosines between a correct and a
# wrong caption of one image usually differ by 0.02-0.05 when it does know the difference.
INDISTINCT = 0.01

SPATIAL_SWAPS = (
    ("left", "right"),
    ("above", "below"),
    ("over", "under"),
    ("top", "bottom"),
    ("in front of", "behind"),
    ("on top of", "underneath"),
)
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven")


@dataclass(frozen=True)
class Probe:
    """A minimally changed query and CLIP's score for it relative to the query's."""

    kind: str  # swap_sides | swap_attributes | change_number | drop_negation
    text: str
    similarity: float
    delta: float  # query similarity minus probe similarity

    @property
    def indistinct(self) -> bool:
        """CLIP scores query and probe about the same: it cannot tell the difference."""
        return abs(self.delta) < INDISTINCT

    @property
    def preferred(self) -> bool:
        """CLIP scores the altered query clearly *higher*: it reads the image as that version instead."""
        return self.delta <= -INDISTINCT

    @property
    def verdict(self) -> str:
        return "CLIP prefers this" if self.preferred else "CLIP cannot tell" if self.indistinct else "distinct"

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "text": self.text,
            "similarity": round(self.similarity, 4),
            "delta": round(self.delta, 4),
            "clip_cannot_tell": self.indistinct,
            "clip_prefers_probe": self.preferred,
        }


@dataclass(frozen=True)
class Diagnosis:
    query: str
    image: str
    clip: CalibratedScore
    probes: tuple[Probe, ...]
    analysis: QueryAnalysis
    routed: AskAnswer
    explanation: str
    picture: str | None

    def to_dict(self) -> dict[str, object]:
        return {
            "query": self.query,
            "image": self.image,
            "clip": self.clip.to_dict(),
            "probes": [p.to_dict() for p in self.probes],
            "analysis": self.analysis.to_dict(),
            "routed": self.routed.to_dict(),
            "explanation": self.explanation,
            "picture": self.picture,
        }


def _swap_words(text: str, a: str, b: str) -> str:
    """Exchange whole-word occurrences of ``a`` and ``b``."""
    pattern = re.compile(rf"\b({re.escape(a)}|{re.escape(b)})\b", re.IGNORECASE)
    return pattern.sub(lambda m: b if m.group(0).lower() == a else a, text)


def _as_typed(value: str, mention_text: str) -> str | None:
    """The attribute as the user spelled it in the mention ("grey" where the parse says "gray")."""
    words = re.findall(r"[\w-]+", mention_text.lower())
    if value in words:
        return value
    close = [w for w in words if w[:2] == value[:2] and abs(len(w) - len(value)) <= 2]
    return close[0] if close else None


def contrast_probes(analysis: QueryAnalysis) -> list[tuple[str, str]]:
    """Minimal edits of the query that change its meaning along the dimension CLIP is weak at."""
    query, parse = analysis.query, analysis.parse
    probes: list[tuple[str, str]] = []
    for a, b in SPATIAL_SWAPS:
        swapped = _swap_words(query, a, b)
        if swapped != query:
            probes.append(("swap_sides", swapped))
            break
    attributed = [m for m in parse.objects if m.attributes]
    if len(attributed) >= 2:
        typed = [_as_typed(m.attributes[0].value, m.text) for m in attributed[:2]]
        if None not in typed and typed[0] != typed[1]:
            probes.append(("swap_attributes", _swap_words(query, typed[0], typed[1])))  # type: ignore[arg-type]
    for count in parse.counts:
        if count.value is None:
            continue
        new = count.value + 1 if count.value < len(NUMBER_WORDS) - 1 else count.value - 1
        changed = re.sub(rf"\b{count.value}\b", str(new), count.text)
        if changed == count.text and count.value < len(NUMBER_WORDS):
            changed = _swap_words(count.text, NUMBER_WORDS[count.value], NUMBER_WORDS[new])
        if changed != count.text:
            probes.append(("change_number", query.replace(count.text, changed)))
            break
    for negated in parse.negated:
        positive = re.sub(r"\b(no|not|without|w/o|non-?)\b\s*", "", negated.text, flags=re.IGNORECASE).strip()
        cue = negated.cue.lower()
        replacement = (
            f"with {positive}" if cue in ("without", "w/o") else f"some {positive}" if cue == "no" else positive
        )
        probes.append(("drop_negation", re.sub(r"\s+", " ", query.replace(negated.text, replacement)).strip()))
        break
    return probes


def _explain(clip: CalibratedScore, probes: list[Probe], analysis: QueryAnalysis, routed: AskAnswer) -> str:
    parts = []
    preferred = sorted((p for p in probes if p.preferred), key=lambda p: p.delta)
    if preferred:  # the strongest evidence leads: CLIP ranks a wrong reading above the query
        best = preferred[0]
        parts.append(
            f"CLIP scores the altered query {best.text!r} ({best.kind.replace('_', ' ')}) higher than the query "
            f"({best.similarity:.3f} vs {clip.similarity:.3f}): it reads the image as that version, not the query."
        )
    parts.append(f"CLIP: {clip.describe()}.")
    blind = [p for p in probes if p.indistinct]
    if blind:
        kinds = ", ".join(p.kind.replace("_", " ") for p in blind)
        parts.append(
            f"CLIP scores the query and its altered versions ({kinds}) almost the same: it cannot tell them apart."
        )
    if analysis.limitations:
        kinds = ", ".join(lim.kind.value for lim in analysis.limitations)
        parts.append(f"The query needs what CLIP lacks ({kinds}); the routed answer is {answer_words(routed.answer)}.")
    else:
        parts.append("The query is within what CLIP does well; a low score likely means the image does not show it.")
    return " ".join(parts)


def diagnose(
    image: ImageInput,
    query: str,
    *,
    kit: Toolkit,
    out: str | Path | None = None,
) -> Diagnosis:
    """All the evidence for why CLIP scored ``query`` on ``image`` as it did; a picture when ``out`` is given.

    ``kit`` holds the models (its CLIP is the one diagnosed); see :class:`~clipaware.tasks.ask.Toolkit`.
    """
    pil = as_pil(image)
    analysis = analyze(query)
    routed = ask(pil, query, kit=kit)
    vector = kit.clip.embed_pil([pil])[0]
    edits = contrast_probes(analysis)
    scores = calibrated_scores(kit.clip, vector, [analysis.query] + [text for _, text in edits])
    base = scores[0]
    probes = tuple(
        Probe(kind, s.text, s.similarity, base.similarity - s.similarity)
        for (kind, _), s in zip(edits, scores[1:], strict=True)
    )
    picture = None
    if out is not None:
        picture = str(_draw(pil, analysis.query, routed, kit, out))
    name = str(image) if isinstance(image, (str, Path)) else "<image>"
    return Diagnosis(
        analysis.query, name, base, probes, analysis, routed, _explain(base, list(probes), analysis, routed), picture
    )


def _draw(pil, query: str, routed: AskAnswer, kit: Toolkit, out: str | Path) -> Path:
    from clipaware.render import draw_boxes, heat_overlay, save_png, side_by_side

    boxes: list[tuple[str, list[float]]] = []
    for step in routed.steps:
        for key in ("counted", "subjects", "objects", "found", "regions"):
            for region in step.evidence.get(key, []) or []:
                boxes.append((region["label"], region["box"]))
        for binding in step.evidence.get("bindings", []) or []:
            if binding.get("region"):
                boxes.append((binding["phrase"], binding["region"]["box"]))
    grid = kit.clip.patch_similarity(pil, query)
    return save_png(side_by_side(draw_boxes(pil, boxes), heat_overlay(pil, grid)), out)
