"""The 80 COCO classes DETR knows, and the everyday words people use for them.

The detector route picks DETR (fast, closed vocabulary) when every noun of the query maps to a COCO
class and OWLv2 (open vocabulary, slower) otherwise; this module does that mapping, offline.
"""

from __future__ import annotations

from clipaware.words import singular

COCO_CLASSES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip

SYNONYMS: dict[str, str] = {
    **dict.fromkeys(
        ("people", "man", "woman", "child", "kid", "boy", "girl", "guy", "lady", "pedestrian", "player",
         "adult", "baby", "toddler", "human", "persons", "men", "women", "children", "kids", "runner",
         "skier", "surfer", "rider", "worker", "student"),
        "person",
    ),
    "bike": "bicycle", "motorbike": "motorcycle", "scooter": "motorcycle", "plane": "airplane",
    "aeroplane": "airplane", "jet": "airplane", "aircraft": "airplane", "automobile": "car", "sedan": "car",
    "taxi": "car", "cab": "car", "suv": "car", "lorry": "truck", "pickup": "truck", "ship": "boat",
    "sailboat": "boat", "canoe": "boat", "kayak": "boat", "hydrant": "fire hydrant", "kitten": "cat",
    "kitty": "cat", "puppy": "dog", "pup": "dog", "pony": "horse", "lamb": "sheep", "cattle": "cow",
    "bull": "cow", "calf": "cow", "purse": "handbag", "luggage": "suitcase", "ski": "skis", "ball": "sports ball",
    "football": "sports ball", "basketball": "sports ball", "soccer ball": "sports ball",
    "tennis ball": "sports ball", "bat": "baseball bat", "glove": "baseball glove", "racket": "tennis racket",
    "racquet": "tennis racket", "mug": "cup", "doughnut": "donut", "sofa": "couch", "plant": "potted plant",
    "houseplant": "potted plant", "table": "dining table", "television": "tv", "tv monitor": "tv",
    "phone": "cell phone", "smartphone": "cell phone", "mobile phone": "cell phone", "fridge": "refrigerator",
    "teddy": "teddy bear", "hair dryer": "hair drier", "hotdog": "hot dog", "wineglass": "wine glass",
}  # fmt: skip


def coco_class(noun: str) -> str | None:
    """The COCO class a noun names (``"puppies"`` → ``"dog"``), or None when COCO has no such class."""
    word = noun.strip().lower()
    for candidate in (word, singular(word)):
        if candidate in COCO_CLASSES:
            return candidate
        if candidate in SYNONYMS:
            return SYNONYMS[candidate]
    return None
