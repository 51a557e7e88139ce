"""The frame route: is the object in the named part of the picture ("a sun in the top right corner")?

CLIP has no notion of where in the frame something is; a detector's box does. The object's detections
(with the asked attributes) are placed against the frame regions of :mod:`clipaware.routes.geometry`:
one in the region answers yes, one on a region's edge "can't tell", none no.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from clipaware.query import QueryAnalysis
from clipaware.routes.base import Refs, RouteAnswer, Step, Toolkit, locate, ref_for, verdict_answer
from clipaware.routes.geometry import Verdict, frame_region_name, in_frame


class FrameRoute:
    name = "frame"

    def plan(self, analysis: QueryAnalysis, refs: Refs, planned: Sequence[Step]) -> list[Step]:
        steps, placed = [], set()
        for rel in analysis.parse.relations:
            if rel.object != "frame":
                continue
            position = frame_region_name(rel.relation)
            subject = ref_for(rel.subject, refs) or next(iter(refs.values()), None)
            if position and subject and subject.noun not in placed:
                placed.add(subject.noun)
                steps.append(Step(self.name, {"target": subject, "position": position}, rel.text))
        return steps

    def run(self, step: Step, image: Image.Image, kit: Toolkit) -> RouteAnswer:
        target, position = step.args["target"], step.args["position"]
        found, models = locate(image, target, kit)
        regions = [r for r in found if r.matches]
        results = [in_frame(position, r.detection.box, image.size) for r in regions]
        verdicts = [res.verdict for res in results]
        verdict = next((v for v in (Verdict.HOLDS, Verdict.UNKNOWN) if v in verdicts), Verdict.FAILS)
        reason = results[verdicts.index(verdict)].reason if results else f"no {target.text} detected"
        evidence = {"position": position, "verdict": verdict.value, "reason": reason,
                    "regions": [r.to_dict() for r in regions]}  # fmt: skip
        return RouteAnswer(self.name, step.text, verdict_answer(verdict), evidence, models, results)
