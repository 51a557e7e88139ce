"""The routed column of ``clipaware eval shapes``: each probe answered through clipaware's route table.

With ``--via tasks`` each probe becomes the :class:`~clipaware.routes.Step` a user's parsed query would
plan — a ``count`` step for counting, ``relate`` for relations, ``bind`` for binding, ``negate`` for
negation — and is run by the same route object ``ask`` runs (:data:`clipaware.routes.ROUTES`), with the
probe's detector (the shapes world's ``ShapeDetector``) and CLIP judging colours on crops. Objects come from
the probe's ``query`` or are read off its candidate texts, never from its answer. With ``--via ask`` the
probe's words go through ``ask`` whole, so the analyzer's mistakes count too. "Can't tell" (both or neither
candidate holds) is returned as -1 and scored wrong: a route earns its accuracy only with a decision.

A probe task whose route is not in the table gets no answerer (:func:`route_for` returns ``None``) and
its column reads "not available" rather than a number nobody measured.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from clipaware.eval.shapes.probes import Probe
from clipaware.images import load_image
from clipaware.routes import ROUTES, RouteAnswer, Step
from clipaware.routes.regions import ObjectRef

CANT_TELL = -1

# probe task → the route (a key of clipaware.routes.ROUTES) that answers it
PROBE_ROUTES: dict[str, str] = {
    "count": "count",
    "count_exact": "count",
    "left_right": "relate",
    "above_below": "relate",
    "binding": "bind",
    "negation": "negate",
}
RELATIONS: dict[str, tuple[str, str]] = {"left_right": ("left_of", "right_of"), "above_below": ("above", "below")}
_PHRASE = re.compile(r"\ban? (\w+) (\w+)\b")

Answerer = Callable[[Probe, Any, Any], int]


def _ref(shape: str, colour: str | None = None) -> ObjectRef:
    return ObjectRef(shape, (colour,) if colour else ())


def _run(route: str, args: dict[str, Any], image: Any, clip: Any, detector: Any) -> RouteAnswer:
    """One step through the route table, as ``ask`` would run it, on the probe's detector and CLIP."""
    from clipaware.tasks.ask import Toolkit

    step = Step(route, args, "")
    return ROUTES[route].run(step, load_image(image), Toolkit(clip=clip, detector=detector))


def _only_true(verdicts: list[bool | int | str | None]) -> int:
    """The index of the one candidate that holds; -1 when none or several do (can't tell)."""
    true = [i for i, v in enumerate(verdicts) if v is True]
    return true[0] if len(true) == 1 else CANT_TELL


def answer_count(probe: Probe, clip: Any, detector: Any) -> int:
    target = _ref(probe.query["shape"], probe.query["colour"])
    count = int(_run("count", {"target": target, "op": "ask", "value": None}, probe.images[0], clip, detector).answer)
    return count - 1 if 1 <= count <= len(probe.texts) else CANT_TELL


def answer_count_exact(probe: Probe, clip: Any, detector: Any) -> int:
    args = {"target": _ref(probe.query["shape"]), "op": "exact", "value": probe.query["count"]}
    holds = _run("count", args, probe.images[0], clip, detector).answer
    return CANT_TELL if holds is None else int(holds)


def answer_relation(probe: Probe, clip: Any, detector: Any) -> int:
    s, o = probe.query["subject"], probe.query["object"]
    subject, obj = _ref(s["shape"], s["colour"]), _ref(o["shape"], o["colour"])
    verdicts = [
        _run(
            "relate", {"subject": subject, "relation": relation, "object": obj}, probe.images[0], clip, detector
        ).answer
        for relation in RELATIONS[probe.task]  # in the order of probe.texts
    ]
    return _only_true(verdicts)


def answer_binding(probe: Probe, clip: Any, detector: Any) -> int:
    """Bind the first candidate's phrases; the second candidate is exactly their swap."""
    phrases = [_ref(shape, colour) for colour, shape in _PHRASE.findall(probe.texts[0])]
    result = _run("bind", {"phrases": phrases}, probe.images[0], clip, detector).result
    if result.log_score == result.swapped_log_score:
        return CANT_TELL
    return 0 if result.prefers_query else 1


def answer_negation(probe: Probe, clip: Any, detector: Any) -> int:
    excluded = _ref(probe.query["excluded"])
    return _only_true([_run("negate", {"excluded": excluded}, image, clip, detector).answer for image in probe.images])


def answer_via_ask(probe: Probe, clip: Any, detector: Any) -> int:
    """The whole user path: the probe's own words through ``ask`` (analyse → plan → routes → combine).

    Unlike the answerers above, nothing structured is handed over: the analyzer must read the colours,
    shapes, numbers and relations from the text, so its mistakes count too.
    """
    from clipaware.tasks.ask import Toolkit, ask

    kit = Toolkit(clip=clip, detector=detector)
    if probe.task == "count":
        n = ask(probe.images[0], probe.question, kit=kit).answer
        ok = isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= len(probe.texts)
        return n - 1 if ok else CANT_TELL  # type: ignore[operator]
    if probe.kind == "yes_no":
        answer = ask(probe.images[0], probe.texts[0], kit=kit).answer
        return CANT_TELL if answer is None else int(answer is True)
    if probe.kind == "choose_text":
        return _only_true([ask(probe.images[0], text, kit=kit).answer for text in probe.texts])
    return _only_true([ask(image, probe.texts[0], kit=kit).answer for image in probe.images])


ANSWERERS: dict[str, Answerer] = {
    "count": answer_count,
    "count_exact": answer_count_exact,
    "left_right": answer_relation,
    "above_below": answer_relation,
    "binding": answer_binding,
    "negation": answer_negation,
}


def route_for(task: str, via: str = "tasks") -> Answerer | None:
    """The routed answerer for a shapes task, or ``None`` when the route table has no route for it.

    ``via="ask"`` answers from the probe's text through :func:`answer_via_ask` instead of one route step.
    """
    if PROBE_ROUTES[task] not in ROUTES:
        return None
    return answer_via_ask if via == "ask" else ANSWERERS[task]
