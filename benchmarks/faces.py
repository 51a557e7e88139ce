"""Faces measured on what really ships: dlib's trained weights on scikit-image's real portraits.

The labelled set (``clipaware.eval.faces``) is small and says so: 23 variants of one portrait (Eileen
Collins), 6 of another (the cameraman), 14 photos without a face, plus 100 real 25 px LFW faces for
different-person distances. It prints, on this machine:

* detection recall / precision of the HOG detector on the whole set, and of the CNN detector on a subset
  (``--cnn-images``; it takes tens of seconds per image on a shared CPU), with every miss named;
* same-person vs different-person descriptor distances (n, min, median, max, the share below dlib's 0.6);
* grouping purity: :func:`clipaware.tasks.faces.assign_people` over every face found (false detections
  included, labelled "not a face"), and how many groups each real person was split into;
* per-image latency (median, mean) of HOG and CNN detection + description, one image per call.

    python benchmarks/faces.py            # a table for people
    python benchmarks/faces.py --json     # the same as JSON
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CNN_SUBSET = ("astronaut/original", "astronaut/scale0.5", "astronaut/rotate+20", "camera/original",
              "camera/mirror", "negative/chelsea")  # fmt: skip


def load() -> float:
    return os.getloadavg()[0]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def detect_all(model: Any, photos: list[Any]) -> dict[str, Any]:
    """Scan every photo once: timings, matches against the labels, and every face with its truth."""
    from clipaware.eval.faces import matches

    times: list[float] = []
    tp = fp = small = 0
    misses: list[str] = []
    false: list[str] = []
    faces: list[tuple[str, str, np.ndarray]] = []  # (photo, person or "not a face", descriptor)
    for photo in photos:
        start = time.perf_counter()
        scan = model.scan(photo.image)
        times.append(time.perf_counter() - start)
        small += scan.small
        hit = False
        for face in scan.faces:
            if photo.box is not None and not hit and matches(face.box, photo.box):
                hit = True
                tp += 1
                faces.append((photo.name, photo.person, face.descriptor))
            else:
                fp += 1
                false.append(f"{photo.name} {list(face.box)} score {face.score:.2f}")
                faces.append((photo.name, "not a face", face.descriptor))
        if photo.box is not None and not hit:
            misses.append(photo.name)
    positives = sum(p.box is not None for p in photos)
    return {
        "images": len(photos),
        "with_face": positives,
        "recall": round(tp / positives, 4) if positives else None,
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "true_detections": tp,
        "false_detections": fp,
        "small_skipped": small,
        "missed": misses,
        "false": false,
        "latency_s": {"median": round(statistics.median(times), 4), "mean": round(statistics.fmean(times), 4)},
        "_faces": faces,
    }


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    arr = np.asarray(values)
    return {
        "n": len(values),
        "min": round(float(arr.min()), 4),
        "p5": round(float(np.percentile(arr, 5)), 4),
        "median": round(float(np.median(arr)), 4),
        "p95": round(float(np.percentile(arr, 95)), 4),
        "max": round(float(arr.max()), 4),
        "below_0.6": round(float((arr < 0.6).mean()), 4),
    }


def distance_report(faces: list[tuple[str, str, np.ndarray]], cameraman: np.ndarray, lfw: np.ndarray) -> dict:
    """Same-person and different-person distances between real faces (false detections left out)."""
    from clipaware.models.faces import distances

    eileen = np.stack([d for _, p, d in faces if p == "eileen_collins"])
    cam = np.concatenate([np.stack([d for _, p, d in faces if p == "cameraman"] or [cameraman[0]]), cameraman])
    pairs = lambda m: [float(x) for x in distances(m, m)[np.triu_indices(len(m), 1)]]  # noqa: E731
    cross = lambda a, b: [float(x) for x in distances(a, b).ravel()]  # noqa: E731
    return {
        "same_person": {"eileen_collins": summary(pairs(eileen)), "cameraman": summary(pairs(cam))},
        "different_person": {
            "eileen_vs_cameraman": summary(cross(eileen, cam)),
            "eileen_vs_lfw": summary(cross(eileen, lfw)),
            "cameraman_vs_lfw": summary(cross(cam, lfw)),
            "lfw_vs_lfw_unlabelled": summary(pairs(lfw)),
        },
    }


def purity(faces: list[tuple[str, str, np.ndarray]], threshold: float) -> dict[str, Any]:
    from clipaware.tasks.faces import assign_people

    labels = assign_people(np.zeros((0, 128)), [], [], np.stack([d for *_, d in faces]), [n for n, *_ in faces],
                           threshold)  # fmt: skip
    groups: dict[int, Counter] = {}
    for (_, truth, _), label in zip(faces, labels, strict=True):
        groups.setdefault(label, Counter())[truth] += 1
    pure = sum(c.most_common(1)[0][1] for c in groups.values()) / len(faces)
    split = Counter(t for c in groups.values() for t in c if t != "not a face")
    return {
        "faces": len(faces),
        "groups": len(groups),
        "purity": round(pure, 4),
        "groups_per_person": dict(split),
        "group_contents": [dict(c) for c in groups.values()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--cnn-images", type=int, default=len(CNN_SUBSET), help="CNN on this many of its subset")
    parser.add_argument("--threshold", type=float, default=0.6)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    from clipaware.eval.faces import face_set, lfw_faces
    from clipaware.models.faces import DlibFaces, faces_available

    missing = faces_available()
    if missing:
        sys.exit(f"face models unavailable: {missing}")
    load_before = load()
    photos = face_set()
    hog = DlibFaces("hog")
    hog_report = detect_all(hog, photos)
    cameraman = np.stack(
        [hog.describe_box(p.image, p.box) for p in photos if p.person == "cameraman" and p.box is not None]
    )  # every cameraman variant from its labelled box (HOG finds him in at most one)
    lfw = np.stack([hog.describe_box(face, (0, 0, 149, 149)) for face in lfw_faces()])
    faces = hog_report.pop("_faces")
    cnn_photos = [p for p in photos if p.name in CNN_SUBSET][: args.cnn_images]
    cnn_report = detect_all(DlibFaces("cnn"), cnn_photos) if cnn_photos else None
    hog_subset = detect_all(hog, cnn_photos) if cnn_photos else None
    if cnn_report is not None and hog_subset is not None:
        cnn_report.pop("_faces")
        hog_subset.pop("_faces")
    result = {
        "machine": {
            "cpu": cpu_name(),
            "cores": os.cpu_count(),
            "omp_threads": os.environ.get("OMP_NUM_THREADS"),
            "load_1min_before": round(load_before, 2),
        },
        "set": {
            "images": len(photos),
            "face_photos": sum(p.box is not None for p in photos),
            "people": 2,
            "negatives": sum(p.box is None for p in photos),
            "lfw_faces_for_distances": len(lfw),
            "photos": [p.name for p in photos],
        },
        "hog": hog_report,
        "cnn_subset": {"photos": [p.name for p in cnn_photos], "cnn": cnn_report, "hog": hog_subset},
        "distances": distance_report(faces, cameraman, lfw),
        "grouping": purity(faces, args.threshold),
    }
    result["machine"]["load_1min_after"] = round(load(), 2)
    if cnn_report and hog_subset:
        result["cnn_subset"]["latency_ratio_cnn_over_hog"] = round(
            cnn_report["latency_s"]["median"] / hog_subset["latency_s"]["median"], 1
        )
    if args.json:
        print(json.dumps(result, indent=2))
        return
    m = result["machine"]
    print(f"{m['cpu']}, {m['cores']} cores, load {m['load_1min_before']} -> {m['load_1min_after']}")
    s = result["set"]
    print(f"set: {s['face_photos']} face photos of {s['people']} people, {s['negatives']} negatives, "
          f"{s['lfw_faces_for_distances']} LFW faces")  # fmt: skip
    for name, rep in (("hog (all)", hog_report), ("hog (subset)", hog_subset), ("cnn (subset)", cnn_report)):
        if rep:
            print(f"{name:13} recall {rep['recall']}  precision {rep['precision']}  latency median "
                  f"{rep['latency_s']['median']} s  missed {rep['missed']}")  # fmt: skip
    for group, rows in result["distances"].items():
        for key, val in rows.items():
            print(f"{group:16} {key:22} {val}")
    g = result["grouping"]
    print(f"grouping: {g['faces']} faces -> {g['groups']} groups, purity {g['purity']}, per person "
          f"{g['groups_per_person']}")  # fmt: skip


if __name__ == "__main__":
    main()
