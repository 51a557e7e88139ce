"""The routed column of ``clipaware eval shapes``: each probe answered by clipaware's task functions.

Each answerer turns a probe into the call a user's parsed query would make — ``count_objects`` for counting,
``relate_objects`` for relations, ``bind_attributes`` for binding, ``check_absent`` for negation — with the
probe's detector (the shapes world's :class:`~clipaware.models.detect.ShapeDetector`) and CLIP judging
colours on crops. Objects come from the probe's ``query`` or are read off its candidate texts, never from its
answer. "Can't tell" (both or neither candidate holds) is returned as -1 and scored wrong: a route earns
its accuracy only with a decision.

When the task modules are not installed, :func:`route_for` returns ``None`` and the column reads
"not available" rather than a number nobody measured.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

from clipaware.world.probes import Probe

CANT_TELL = -1

# probe task → the clipaware task module its route needs
ROUTE_MODULES: dict[str, str] = {
    "count": "clipaware.tasks.count",
    "count_exact": "clipaware.tasks.count",
    "left_right": "clipaware.tasks.relate",
    "above_below": "clipaware.tasks.relate",
    "binding": "clipaware.tasks.bind",
    "negation": "clipaware.tasks.negate",
}
RELATIONS: dict[str, tuple[str, str]] = {"left_right": ("left_of", "right_of"), "above_below": ("above", "below")}
_PHRASE = re.compile(r"\ban? (\w+) (\w+)\b")

Answerer = Callable[[Probe, Any, Any], int]


def _ref(shape: str, colour: str | None = None):
    from clipaware.tasks.regions import ObjectRef

    return ObjectRef(shape, (colour,) if colour else ())


def _rivals(colour: str) -> list[tuple[str, ...]]:
    from clipaware.tasks.regions import rivals_of

    return [rivals_of(colour)]


def _only_true(verdicts: list[bool | None]) -> int:
    """The index of the one candidate that holds; -1 when none or several do (can't tell)."""
    true = [i for i, v in enumerate(verdicts) if v is True]
    return true[0] if len(true) == 1 else CANT_TELL


def answer_count(probe: Probe, clip: Any, detector: Any) -> int:
    from clipaware.tasks.count import count_objects

    colour, shape = probe.query["colour"], probe.query["shape"]
    result = count_objects(probe.images[0], _ref(shape, colour), detector, model=clip, alternatives=_rivals(colour))
    return result.count - 1 if 1 <= result.count <= len(probe.texts) else CANT_TELL


def answer_count_exact(probe: Probe, clip: Any, detector: Any) -> int:
    from clipaware.tasks.count import count_objects

    result = count_objects(
        probe.images[0], _ref(probe.query["shape"]), detector, model=clip, op="exact", value=probe.query["count"]
    )
    return CANT_TELL if result.holds is None else int(result.holds)


def answer_relation(probe: Probe, clip: Any, detector: Any) -> int:
    from clipaware.tasks.relate import relate_objects

    s, o = probe.query["subject"], probe.query["object"]
    subject, obj = _ref(s["shape"], s["colour"]), _ref(o["shape"], o["colour"])
    alternatives = {subject.text: _rivals(s["colour"]), obj.text: _rivals(o["colour"])}
    verdicts = [
        relate_objects(probe.images[0], subject, relation, obj, detector, model=clip, alternatives=alternatives).holds
        for relation in RELATIONS[probe.task]  # in the order of probe.texts
    ]
    return _only_true(verdicts)


def answer_binding(probe: Probe, clip: Any, detector: Any) -> int:
    """Bind the first candidate's phrases; the second candidate is exactly their swap."""
    from clipaware.tasks.bind import bind_attributes

    phrases = [_ref(shape, colour) for colour, shape in _PHRASE.findall(probe.texts[0])]
    rivals = {p.attributes[0]: _rivals(p.attributes[0])[0] for p in phrases}
    result = bind_attributes(probe.images[0], phrases, detector, clip, rivals)
    if result.log_score == result.swapped_log_score:
        return CANT_TELL
    return 0 if result.prefers_query else 1


def answer_negation(probe: Probe, clip: Any, detector: Any) -> int:
    from clipaware.tasks.negate import check_absent

    excluded = _ref(probe.query["excluded"])
    return _only_true([check_absent(image, excluded, detector, model=clip).holds for image in probe.images])


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
    """The routed answerer for a shapes task, or ``None`` when clipaware's task module is not installed.

    ``via="ask"`` answers from the probe's text through :func:`answer_via_ask` instead of the task calls.
    Only a missing module means "not available"; an error inside an installed route is raised, not hidden.
    """
    module_name = ROUTE_MODULES[task]
    try:
        importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            return None
        raise
    return answer_via_ask if via == "ask" else ANSWERERS[task]
