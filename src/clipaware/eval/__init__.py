"""The measuring instrument, kept apart from the product (as open_clip keeps ``open_clip_train``).

``clipaware eval`` scores chance, CLIP alone and clipaware's routes, task by task:

- :mod:`clipaware.eval.shapes`: the shapes world — seeded scenes with exact ground truth, alt-text captions,
  probes per CLIP limitation, the small CLIP trained on them, and the classical ``ShapeDetector``;
- :mod:`clipaware.eval.benchmarks`: loaders for real benchmarks' files (What'sUp, SugarCrepe, CountBench);
- :mod:`clipaware.eval.routed`: each probe answered through the route table ``ask`` uses;
- :mod:`clipaware.eval.scoring`: accuracies with Wilson intervals, CLIP-only answers, the reports.

Nothing in the product imports this package; it reaches models only through their public interfaces
(``ClipModel.load``, the Detector protocol, :data:`clipaware.routes.ROUTES`).
"""
