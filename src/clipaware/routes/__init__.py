"""One table of the ways to answer what CLIP alone cannot (the transformers ``SUPPORTED_TASKS`` pattern).

Each route is one object behind :class:`~clipaware.routes.base.Route`: ``plan`` reads the analyzer's parse
into steps (text only), ``run`` answers one step on an image with the models a toolkit holds. ``ask``
(:mod:`clipaware.tasks.ask`: analyse → plan → run → combine) and the evaluation harness both read
:data:`ROUTES`, so the numbers ``clipaware eval`` reports are those of the code users run.

Routes plan in the order of the table: a later route sees the steps planned before it (``bind`` skips
objects a ``relate`` step already judges; ``clip`` takes the whole query only when nothing else planned).
"""

from __future__ import annotations

from PIL import Image

from clipaware.query import QueryAnalysis
from clipaware.routes.base import Route, RouteAnswer, Step, Toolkit, query_refs
from clipaware.routes.bind import BindRoute
from clipaware.routes.clip import ClipRoute
from clipaware.routes.count import CountRoute
from clipaware.routes.frame import FrameRoute
from clipaware.routes.identify import IdentifyRoute
from clipaware.routes.negate import NegateRoute
from clipaware.routes.relate import RelateRoute, UnsupportedRoute
from clipaware.routes.roles import RolesRoute

ROUTES: dict[str, Route] = {
    route.name: route
    for route in (
        CountRoute(),
        FrameRoute(),
        RelateRoute(),
        UnsupportedRoute(),
        BindRoute(),
        RolesRoute(),
        NegateRoute(),
        IdentifyRoute(),
        ClipRoute(),
    )
}


def plan(analysis: QueryAnalysis) -> tuple[Step, ...]:
    """Route steps for an analysed query, in the order they are run."""
    refs = query_refs(analysis)
    steps: list[Step] = []
    for route in ROUTES.values():
        steps.extend(route.plan(analysis, refs, tuple(steps)))
    return tuple(steps)


def run(step: Step, image: Image.Image, kit: Toolkit) -> RouteAnswer:
    """Answer one planned step on a decoded image through its route."""
    return ROUTES[step.route].run(step, image, kit)


__all__ = ["ROUTES", "Route", "RouteAnswer", "Step", "Toolkit", "plan", "run"]
