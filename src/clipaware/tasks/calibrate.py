"""Calibrated CLIP similarity: is this a match at all, or just the least bad caption?

A raw cosine (0.27, say) means nothing on its own, and a top-1 among a handful of candidates is always
"the answer" even when none fits. Scoring the same image against captions of unrelated everyday
scenes gives a null distribution for *this* image; the query's score is reported as a robust z-score
against it (median and MAD, so a null caption that happens to fit does not distort it) and as the share of
those captions it beats (an empirical rank, not a p-value).

The null can be degenerate, and then there is nothing to calibrate against: a model with a word-level
vocabulary (the shapes CLIP) reads most everyday captions as unknown words, so they collapse to one vector
and their spread to zero, which turned any score into z = +8000. Calibration then says it cannot calibrate
and why, instead of printing a number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clipaware.models.clip import ClipModel

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
# Fewer in-vocabulary null captions than this, or a spread below MIN_SPREAD, and the null says nothing.
MIN_NULL = 20
# ViT-B/32's null spread is ~0.01-0.02 in cosine; a thousandth means the captions embed as one.
MIN_SPREAD = 1e-3


@dataclass(frozen=True)
class CalibratedScore:
    """A text's similarity to an image, placed against the image's null distribution.

    ``z`` and ``beats`` are None when the null is degenerate; ``note`` then says why, and the verdict is
    ``"cannot calibrate"``.
    """

    text: str
    similarity: float
    z: float | None
    beats: float | None  # share of the null captions scoring below the text
    null_size: int  # null captions the model can read (out of NULL_CAPTIONS)
    verdict: str  # "match", "weak match", "no match" or "cannot calibrate"
    note: str | None = None

    @property
    def calibrated(self) -> bool:
        return self.z is not None

    def describe(self) -> str:
        """The score in words: the verdict with z and rank, or why there is no calibration."""
        if self.z is None or self.beats is None:
            return f"similarity {self.similarity:.3f}, cannot calibrate: {self.note}"
        return (
            f"{self.verdict} (similarity {self.similarity:.3f}, z = {self.z:+.1f}, above {self.beats:.0%} of "
            f"{self.null_size} unrelated captions)"
        )

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "text": self.text,
            "similarity": round(self.similarity, 4),
            "z": None if self.z is None else round(self.z, 3),
            "beats": None if self.beats is None else round(self.beats, 4),
            "null_size": self.null_size,
            "verdict": self.verdict,
        }
        if self.note:
            out["reason"] = self.note
        return out


def calibrate(similarity: float, null: np.ndarray, text: str = "") -> CalibratedScore:
    """Place ``similarity`` against null similarities of the same image (or say why it cannot)."""
    null = np.asarray(null, dtype=np.float64)
    size = int(null.size)
    if size < MIN_NULL:
        note = (
            f"only {size} of {len(NULL_CAPTIONS)} unrelated captions are in this model's vocabulary "
            f"(at least {MIN_NULL} needed)"
        )
        return CalibratedScore(text, similarity, None, None, size, "cannot calibrate", note)
    centre = float(np.median(null))
    spread = 1.4826 * float(np.median(np.abs(null - centre)))  # MAD scaled to a normal's sigma
    if spread < MIN_SPREAD:
        note = f"the unrelated captions score almost the same (spread {spread:.1e}): the model does not tell them apart"
        return CalibratedScore(text, similarity, None, None, size, "cannot calibrate", note)
    z = (similarity - centre) / spread
    beats = float(np.mean(null < similarity))
    if similarity <= 0:  # the text points away from the image: however tight the null, that is no match
        verdict = "no match"
    else:
        verdict = "match" if z >= MATCH_Z else "weak match" if z >= WEAK_Z else "no match"
    return CalibratedScore(text, similarity, z, beats, size, verdict)


def calibrated_scores(model: ClipModel, image_vector: np.ndarray, texts: list[str]) -> list[CalibratedScore]:
    """Each text's similarity to the image, calibrated against the :data:`NULL_CAPTIONS` the model can read."""
    readable = [caption for caption in NULL_CAPTIONS if model.knows(caption)]
    null = model.encode_texts(readable) @ image_vector if readable else np.zeros(0, np.float32)
    sims = model.encode_texts(texts) @ image_vector
    return [calibrate(float(s), null, t) for s, t in zip(sims, texts, strict=True)]
