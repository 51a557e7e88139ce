"""The roles route: who does what to whom ("a cat chasing a dog")? Always low confidence.

No detector sees roles. The honest fallback is a contrast: if CLIP cannot separate "a cat chasing a dog"
from "a dog chasing a cat" by a clear margin, the answer is "can't tell".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from PIL import Image

from clipaware.query import QueryAnalysis
from clipaware.routes.base import Refs, RouteAnswer, Step, Toolkit
from clipaware.words import ing_form, singular

MARGIN = 0.01  # cosine difference below which the query and its role swap are a tie


def swap_roles(text: str, subject: str, obj: str) -> str | None:
    """``text`` with its doer and receiver exchanged, in the user's own words.

    "cat chasing a dog" → "dog chasing a cat"; "man is taller than a woman" → "woman is taller than a man".
    Swapping the words where they stand keeps the verb form and the comparison the user wrote, which
    rebuilding a sentence from the verb's lemma cannot ("taller than" is no verb to put in -ing). None when
    either noun is not found in the text.
    """
    words = re.split(r"([^\w'-]+)", text)

    def position(noun: str) -> int | None:
        return next((i for i, w in enumerate(words) if w and singular(w.lower()) == noun), None)

    i, j = position(subject), position(obj)
    if i is None or j is None or i == j:
        return None
    words[i], words[j] = words[j], words[i]
    return "".join(words)


class RolesRoute:
    name = "roles"

    def plan(self, analysis: QueryAnalysis, refs: Refs, planned: Sequence[Step]) -> list[Step]:
        return [
            Step(self.name, {"subject": action.subject, "verb": action.verb, "object": action.object}, action.text)
            for action in analysis.parse.actions
        ]

    def run(self, step: Step, image: Image.Image, kit: Toolkit) -> RouteAnswer:
        a = step.args
        swapped = swap_roles(step.text, a["subject"], a["object"])
        if swapped is not None:
            forward, backward = f"a photo of a {step.text}.", f"a photo of a {swapped}."
        else:  # the action's words could not be found again: rebuild both sentences from the verb
            verb = ing_form(a["verb"])
            forward = f"a photo of a {a['subject']} {verb} a {a['object']}."
            backward = f"a photo of a {a['object']} {verb} a {a['subject']}."
        model = kit.clip
        sims = model.encode_texts([forward, backward]) @ model.embed_pil([image])[0]
        margin = float(sims[0] - sims[1])
        answer = None if abs(margin) < MARGIN else margin > 0
        evidence = {"query_similarity": round(float(sims[0]), 4), "swapped_similarity": round(float(sims[1]), 4),
                    "low_confidence": True, "swapped": backward}  # fmt: skip
        return RouteAnswer(self.name, step.text, answer, evidence, (model.name,))
