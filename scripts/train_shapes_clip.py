"""Train the small shapes CLIP that ships in ``clipaware/eval/shapes/shapes_clip`` (fixed seed, CPU, ~10 minutes).

Why it exists: nothing here can download real CLIP weights, yet tests and ``clipaware eval shapes`` need a
model that has actually *learned* image–text matching, with the same blind spots as web-trained CLIP. So we
train a ``transformers`` CLIPModel contrastively on synthetic scenes paired with alt-text-like captions
(:mod:`clipaware.eval.shapes.captions`) and save it with ``save_pretrained`` so it loads exactly like a hub model.

Speed: scenes are rendered once and pre-processed to the model's input size (the same resize + normalise
that the saved ``CLIPImageProcessor`` applies); captions are re-drawn every epoch, so the text side sees a
fresh alt-text each time. Run:

    PYTHONPATH=src python scripts/train_shapes_clip.py            # writes src/clipaware/eval/shapes/shapes_clip
    PYTHONPATH=src python scripts/train_shapes_clip.py --out /tmp/x --minutes 2   # a quick try
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from transformers import CLIPModel
from transformers.utils import logging as hf_logging

from clipaware.eval.shapes.captions import alt_text, caption_vocabulary
from clipaware.eval.shapes.scenes import COLOURS, SHAPES, ObjectSpec, make_scene, random_specs
from clipaware.testing import build_word_tokenizer, tiny_clip_config

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "src" / "clipaware" / "eval" / "shapes" / "shapes_clip"
INPUT_SIZE = 64
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def preprocess(image) -> np.ndarray:
    """What the saved CLIPImageProcessor does (bicubic resize to INPUT_SIZE, rescale, normalise), as uint8.

    Kept as uint8 pixels here (normalised per batch) so 20k scenes fit in ~250 MB.
    """
    from PIL import Image

    small = image.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BICUBIC)
    return np.asarray(small, dtype=np.uint8)


def to_tensor(pixels: np.ndarray) -> torch.Tensor:
    x = (pixels.astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()


def build_training_set(n: int, seed: int, single_fraction: float) -> tuple[list, np.ndarray]:
    """``n`` scenes' objects (a fraction with one object, the rest 1–6) and their pre-processed pixels."""
    rng = np.random.default_rng(seed)
    scenes, pixels = [], np.empty((n, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8)
    for i in range(n):
        n_objects = 1 if rng.random() < single_fraction else None
        scene = make_scene(rng, random_specs(rng, n_objects))
        pixels[i] = preprocess(scene.image)
        scenes.append(scene.objects)  # keep ground truth only, not the 224 px image
    return scenes, pixels


def heldout_single_object_scenes(seed: int, repeats: int) -> tuple[list[list], list[str]]:
    """Galleries of 32 single-object scenes, one per colour × shape, drawn from a seed unused in training."""
    rng = np.random.default_rng(seed)
    galleries = []
    for _ in range(repeats):
        gallery = []
        for colour in COLOURS:
            for shape in SHAPES:
                size = str(rng.choice(["small", "large"]))
                gallery.append(make_scene(rng, [ObjectSpec(shape, colour, size)]))
        galleries.append(gallery)
    texts = [f"a {c} {s}" for c in COLOURS for s in SHAPES]
    return galleries, texts


@torch.no_grad()
def recall_at_1(model: CLIPModel, tokenizer, galleries: list[list], texts: list[str]) -> float:
    """Text→image R@1: for "a red circle", is the red-circle scene the top one among the 32 in its gallery?"""
    model.eval()
    enc = tokenizer(texts, padding=True, return_tensors="pt")
    t = F.normalize(model.get_text_features(**enc).pooler_output, dim=-1)
    hits = total = 0
    for gallery in galleries:
        px = to_tensor(np.stack([preprocess(s.image) for s in gallery]))
        v = F.normalize(model.get_image_features(pixel_values=px).pooler_output, dim=-1)
        best = (t @ v.T).argmax(dim=1)
        hits += int((best == torch.arange(len(texts))).sum())
        total += len(texts)
    model.train()
    return hits / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenes", type=int, default=24000)
    parser.add_argument("--single-fraction", type=float, default=0.3)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hidden", type=int, default=96)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=0, help="stop early after this long (0: no limit)")
    args = parser.parse_args()

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    start = time.time()

    # "gray" (American, and what the query analyzer normalises to) reads as the trained "grey"
    tokenizer = build_word_tokenizer(caption_vocabulary(), max_length=64, aliases={"gray": "grey"})
    config = tiny_clip_config(
        len(tokenizer),
        image_size=INPUT_SIZE,
        patch_size=8,
        hidden=args.hidden,
        layers=args.layers,
        heads=4,
        projection_dim=args.hidden,
        max_text_len=64,
    )
    model = CLIPModel(config)
    model.train()

    scenes, pixels = build_training_set(args.scenes, args.seed, args.single_fraction)
    galleries, texts = heldout_single_object_scenes(args.seed + 1000, repeats=4)
    print(f"rendered {len(scenes)} scenes in {time.time() - start:.0f}s", flush=True)

    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.98),
        eps=1e-6,
    )
    warmup = max(1, args.steps // 20)

    def lr_at(step: int) -> float:
        if step < warmup:
            return args.lr * (step + 1) / warmup
        return args.lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, args.steps - warmup)))

    rng = np.random.default_rng(args.seed + 1)
    order = rng.permutation(len(scenes))
    cursor = 0
    for step in range(args.steps):
        if cursor + args.batch > len(order):
            order, cursor = rng.permutation(len(scenes)), 0
        idx = order[cursor : cursor + args.batch]
        cursor += args.batch
        captions = [alt_text(scenes[i], rng) for i in idx]
        enc = tokenizer(captions, padding=True, return_tensors="pt")
        px = to_tensor(pixels[idx])
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], pixel_values=px)
        labels = torch.arange(len(idx))
        loss = (F.cross_entropy(out.logits_per_image, labels) + F.cross_entropy(out.logits_per_text, labels)) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        if step % 100 == 0 or step == args.steps - 1:
            elapsed = time.time() - start
            print(
                f"step {step} loss {loss.item():.3f} scale {model.logit_scale.exp().item():.1f} {elapsed:.0f}s",
                flush=True,
            )
        if step % 400 == 399:
            print(
                f"  held-out single-object R@1 {recall_at_1(model, tokenizer, galleries, texts):.3f}",
                flush=True,
            )
        if args.minutes and time.time() - start > args.minutes * 60:
            print(f"stopping at step {step}: time limit", flush=True)
            break

    r1 = recall_at_1(model, tokenizer, galleries, texts)
    model.eval()
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    # Imported here, after logging is quieted: without torchvision its import warns about the PIL fallback.
    from transformers import CLIPImageProcessor

    CLIPImageProcessor(
        size={"shortest_edge": INPUT_SIZE},
        crop_size={"height": INPUT_SIZE, "width": INPUT_SIZE},
        resample=3,
    ).save_pretrained(args.out)
    minutes = (time.time() - start) / 60
    summary = {
        "seed": args.seed,
        "steps": step + 1,
        "batch": args.batch,
        "scenes": args.scenes,
        "input_size": INPUT_SIZE,
        "heldout_single_object_r_at_1": round(r1, 4),
        "train_minutes": round(minutes, 1),
        "threads": args.threads,
    }
    (args.out / "training.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
