"""The clip route — calibrated CLIP similarity: is this a match at all, or just the least bad caption?

A raw cosine (0.27, say) means nothing on its own, and a top-1 among a handful of candidates is always
"the answer" even when none fits. Scoring the same image against captions of unrelated everyday
scenes gives a null distribution for *this* image; the query's score is reported as a robust z-score
against it (median and MAD, so a null caption that happens to fit does not distort it) and as the
normal probability of beating a null caption.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from clipaware.models.clip import ClipModel
from clipaware.query import QueryAnalysis
from clipaware.query.lexicon import get_lexicon
from clipaware.routes.base import Refs, RouteAnswer, Step, Toolkit

NULL_CAPTIONS: tuple[str, ...] = (
    "a photo of a kitchen.", "a photo of a city street.", "a photo of a forest.", "a photo of a beach.",
    "a photo of an office.", "a photo of a bedroom.", "a photo of a mountain.", "a photo of a river.",
    "a photo of a bowl of soup.", "a photo of a plate of pasta.", "a photo of a birthday cake.",
    "a photo of a bicycle.", "a photo of a bus.", "a photo of an airplane.", "a photo of a sailboat.",
    "a photo of a dog.", "a photo of a cat.", "a photo of a horse.", "a photo of a bird.", "a photo of a fish.",
    "a photo of a laptop.", "a photo of a phone.", "a photo of a book.", "a photo of a chair.",
    "a photo of a guitar.", "a photo of a football match.", "a photo of a crowd.", "a portrait of a woman.",
    "a portrait of a man.", "a photo of children playing.", "a photo of a garden.", "a photo of a desert.",
    "a photo of snow.", "a photo of a bridge.", "a photo of a church.", "a photo of a supermarket.",
    "a screenshot of a website.", "a diagram.", "a painting of flowers.", "a black and white photo.",
)  # fmt: skip

MATCH_Z = 2.0
WEAK_Z = 1.0


@dataclass(frozen=True)
class CalibratedScore:
    """A text's similarity to an image, placed against the image's null distribution."""

    text: str
    similarity: float
    z: float
    probability: float
    verdict: str  # "match", "weak match" or "no match"

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "similarity": round(self.similarity, 4),
            "z": round(self.z, 3),
            "probability": round(self.probability, 4),
            "verdict": self.verdict,
        }


def calibrate(similarity: float, null: np.ndarray, text: str = "") -> CalibratedScore:
    """Place ``similarity`` against null similarities of the same image."""
    centre = float(np.median(null))
    spread = 1.4826 * float(np.median(np.abs(null - centre)))  # MAD scaled to a normal's sigma
    spread = max(spread, 1e-4)
    z = (similarity - centre) / spread
    probability = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    verdict = "match" if z >= MATCH_Z else "weak match" if z >= WEAK_Z else "no match"
    return CalibratedScore(text, similarity, z, probability, verdict)


def calibrated_scores(model: ClipModel, image_vector: np.ndarray, texts: list[str]) -> list[CalibratedScore]:
    """Each text's similarity to the image, calibrated against :data:`NULL_CAPTIONS`."""
    null = model.encode_texts(list(NULL_CAPTIONS)) @ image_vector
    sims = model.encode_texts(texts) @ image_vector
    return [calibrate(float(s), null, t) for s, t in zip(sims, texts, strict=True)]


class ClipRoute:
    """Plain CLIP, calibrated: for a query no other route covers, and for the positive part of a negation.

    "a beach with no people" asks the negate route about people and CLIP about "a beach"; a query with no
    limitation at all goes here whole. The answer is yes only for a calibrated "match".
    """

    name = "clip"

    def plan(self, analysis: QueryAnalysis, refs: Refs, planned: Sequence[Step]) -> list[Step]:
        steps = []
        if analysis.parse.negated:
            positive = analysis.query
            for negated in analysis.parse.negated:
                positive = positive.replace(negated.text, " ")
            positive = re.sub(r"\s+", " ", positive).strip(" ,.;")
            positive = re.sub(r"(\s+(with|and|but|or|without|of|in|on|that|has|have))+$", "", positive)
            if _content_words(positive):
                steps.append(Step(self.name, {"text": positive}, positive))
        if not planned and not steps:
            steps.append(Step(self.name, {"text": analysis.query}, analysis.query))
        return steps

    def run(self, step: Step, image: Image.Image, kit: Toolkit) -> RouteAnswer:
        model = kit.clip
        score = calibrated_scores(model, model.embed_pil([image])[0], [step.args["text"]])[0]
        return RouteAnswer(self.name, step.text, score.verdict == "match", score.to_dict(), (model.name,), score)


_GENERIC_WORDS = frozenset({"a", "an", "the", "of", "with", "and", "in", "on", "at", "some", "any", "that", "is"})


def _content_words(text: str) -> list[str]:
    """The words of ``text`` that name something to look for (not the picture, not function words)."""
    generic = get_lexicon().picture_words | _GENERIC_WORDS
    return [w for w in re.findall(r"[a-z]+", text.lower()) if w not in generic]
