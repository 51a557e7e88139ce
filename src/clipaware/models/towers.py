"""What one CLIP tower computes, shared by the PyTorch engine and the ONNX export so they cannot drift.

A module of its own so that :mod:`~clipaware.models.engines` and :mod:`~clipaware.models.onnx` both read
it without importing :mod:`~clipaware.models.clip` (which imports them): the models floor has no cycle.
"""

from __future__ import annotations

from typing import Any


def pooled(output: Any) -> Any:
    """The pooled, projected features: transformers 5 returns an output object from ``get_*_features``,
    4.x returned the tensor itself."""
    return output if hasattr(output, "norm") else output.pooler_output
