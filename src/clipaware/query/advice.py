"""What to say about each limitation: why CLIP fails on it and which route and model to use instead.

The model names are real Hugging Face checkpoints, so a user can load them directly; the wording names the
concrete thing found in the query so the advice is specific ("count the candles", "detect the leash").
"""

from __future__ import annotations

from clipaware.query.analysis import LimitationKind, QueryParse

DETECTOR = "facebook/detr-resnet-50"
OPEN_VOCAB_DETECTOR = "google/owlv2-base-patch16-ensemble"
FINE_FEATURES = "facebook/dinov2-small"


def _names(items: list[str], limit: int = 3) -> str:
    unique = list(dict.fromkeys(item for item in items if item))[:limit]
    return ", ".join(f"'{item}'" for item in unique) if unique else "the objects"


def explain(kind: LimitationKind, parse: QueryParse) -> tuple[str, str]:
    """``(explanation, suggestion)`` for one limitation kind, worded from the parse."""
    if kind is LimitationKind.COUNTING:
        nouns = _names([count.noun or "" for count in parse.counts])
        return (
            "CLIP pools the whole image into one vector and has no notion of how many instances it saw; "
            "scores for 'three' and 'four' of a thing are nearly the same.",
            f"Route to counting: detect {nouns} with {DETECTOR} (COCO classes) or the open-vocabulary "
            f"{OPEN_VOCAB_DETECTOR} (any noun), then count boxes above a score threshold and compare "
            "with the requested number.",
        )
    if kind is LimitationKind.FINE_GRAINED:
        types = {entity.type for entity in parse.entities}
        names = _names([entity.text for entity in parse.entities if entity.type not in ("landmark", "brand")])
        if types & {"person"}:
            route = (
                "use a face-recognition model (e.g. InsightFace/ArcFace embeddings) against a gallery of "
                f"reference photos of {names}"
            )
        else:
            route = (
                f"embed a gallery of labelled reference images with {FINE_FEATURES} (DINOv2) and classify by "
                f"k-nearest neighbours, using CLIP only to pre-filter the broad category of {names}"
            )
        return (
            "Telling apart look-alikes inside one category (people, makes and models, breeds, species, "
            "artworks, fonts) needs detail CLIP's coarse, caption-trained embedding does not keep.",
            f"Route to identify: {route}.",
        )
    if kind is LimitationKind.SPATIAL:
        relations = [f"{r.subject or 'object'} {r.relation} {r.object or ''}".strip() for r in parse.relations]
        return (
            "CLIP's pooled embedding loses where things are: 'cat left of dog' and 'dog left of cat' score "
            "almost the same.",
            f"Route to relate: detect the objects with {OPEN_VOCAB_DETECTOR} (or {DETECTOR}), then check "
            f"box geometry (centres, overlap, frame position) for {_names(relations)}.",
        )
    if kind is LimitationKind.COMPOSITIONAL:
        return (
            "CLIP treats a caption as a bag of concepts: it cannot tell which attribute or role belongs to "
            "which object, so swapped versions ('red car, blue truck' vs 'blue car, red truck') score alike.",
            f"Route to bind: detect each object with {OPEN_VOCAB_DETECTOR}, crop its region and score the "
            "region against its own attribute or role phrase (region-level scoring), then combine.",
        )
    negated = _names([term.term for term in parse.negated])
    return (
        "CLIP's text encoder largely ignores 'no', 'not' and 'without': 'a beach with no people' embeds "
        "next to 'a beach with people'.",
        f"Route to negate: search with CLIP for the query minus the negated part, then run "
        f"{OPEN_VOCAB_DETECTOR} for {negated} and drop images where it is found.",
    )
