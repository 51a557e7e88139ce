"""Known models: name → family, embedding size, input size, cost, and what each is good and bad at.

This is the seed guide's model-selection table made live (``clipaware models``). Costs are the image
tower's forward pass in GFLOPs at the model's input size, from the open_clip / model-card profiles, so
that users can compare models before downloading gigabytes. Any other hub name or a local folder still
loads: the registry describes, it does not restrict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_MODEL = "openai/clip-vit-base-patch32"

# The small CLIP trained on the shapes world ships inside the package, so clipaware can be tried with no
# download at all (README: "Try it without a download"). It loads by this name (or the short alias).
SHAPES_MODEL = "shapes-clip"
MODEL_ALIASES = {"shapes": SHAPES_MODEL}
# Models whose files ship in the package: name -> folder, relative to the package root.
BUNDLED = {SHAPES_MODEL: "world/shapes_clip"}


@dataclass(frozen=True)
class ModelSpec:
    """One known model. ``family`` says how it is loaded and scored (e.g. softmax vs sigmoid)."""

    name: str
    family: str  # "clip" | "siglip" | "detr" | "owlv2" | "dinov2"
    role: str  # "embed" (image-text), "detect", "features"
    embedding_dim: int | None
    image_size: int
    gflops: float  # image tower forward pass, GFLOPs per image
    good_at: str
    bad_at: str
    revision: str | None = None  # hub branch to load, when the default one needs something we lack
    bundled: bool = False  # ships inside the package: always present, never downloaded

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "openai/clip-vit-base-patch32",
            "clip",
            "embed",
            512,
            224,
            4.4,
            "fast semantic search, broad zero-shot classes, near-duplicates",
            "counting, spatial relations, attribute binding, negation, fine-grained identity",
        ),
        ModelSpec(
            "openai/clip-vit-large-patch14",
            "clip",
            "embed",
            768,
            224,
            81.1,
            "higher-quality search and zero-shot; better on small objects and text in images",
            "same blind spots as B/32 at ~18x the compute",
        ),
        ModelSpec(
            "laion/CLIP-ViT-g-14-laion2B-s12B-b42K",
            "clip",
            "embed",
            1024,
            224,
            267.2,
            "best zero-shot accuracy of the CLIPs here (LAION-2B)",
            "slow on CPU (~60x B/32); still fails counting/spatial/binding/negation",
        ),
        ModelSpec(
            "google/siglip2-base-patch16-224",
            "siglip",
            "embed",
            768,
            224,
            17.6,
            "multi-label tagging (independent sigmoid scores), multilingual text",
            "same compositional blind spots; scores are not a distribution over labels",
        ),
        ModelSpec(
            "facebook/detr-resnet-50",
            "detr",
            "detect",
            None,
            800,
            86.0,
            "counting and locating the 80 COCO object classes",
            "objects outside COCO; image-text similarity",
            revision="no_timm",  # transformers' own ResNet backbone: timm needs torchvision
        ),
        ModelSpec(
            "google/owlv2-base-patch16-ensemble",
            "owlv2",
            "detect",
            None,
            960,
            300.0,
            "open-vocabulary detection: count or locate any named thing",
            "speed on CPU; image-text similarity",
        ),
        ModelSpec(
            "facebook/dinov2-small",
            "dinov2",
            "features",
            384,
            224,
            5.5,
            "fine-grained image-to-image matching against a labelled gallery",
            "text queries (no text tower)",
        ),
        ModelSpec(
            "facebook/dinov2-base",
            "dinov2",
            "features",
            768,
            224,
            21.9,
            "stronger fine-grained features than dinov2-small",
            "text queries (no text tower); 4x the cost of small",
        ),
        ModelSpec(
            SHAPES_MODEL,
            "clip",
            "embed",
            96,
            64,
            0.05,
            "trying clipaware offline: coloured circles, squares, triangles and stars (`--model shapes`)",
            "everything else: trained only on synthetic shapes scenes",
            bundled=True,
        ),
    )
}

# Families whose scores are sigmoid-calibrated per label rather than a softmax over labels.
SIGMOID_FAMILIES = frozenset({"siglip"})


def default_model_name() -> str:
    """The model to use when none is named: ViT-B/32 (the CLI's ``--model`` / ``CLIPAWARE_MODEL`` name another)."""
    return DEFAULT_MODEL


def resolve_model_name(name: str | None) -> str:
    """The named model, else the default; aliases resolve (``shapes`` -> ``shapes-clip``)."""
    name = name or default_model_name()
    return MODEL_ALIASES.get(name, name)


def bundled_folder(name: str) -> Path | None:
    """The folder of a model that ships inside the package (``shapes-clip`` / ``shapes``), else None."""
    relative = BUNDLED.get(MODEL_ALIASES.get(name, name))
    return Path(__file__).resolve().parents[1] / relative if relative else None


def family_of_model_type(model_type: str) -> str:
    """Map a transformers ``config.model_type`` to our family name."""
    if model_type.startswith("siglip"):
        return "siglip"
    return model_type
