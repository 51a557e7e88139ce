#!/usr/bin/env python3
"""The guide's `scripts/validate_clip_usage.py`: runs `clipaware check` (see clipaware.guide_scripts; no logic here).

Works from a clone without installing (the clone's src/ comes first on the path) and installed, where the
same function is also the console script `clipaware-validate-clip-usage`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from clipaware.guide_scripts import validate_clip_usage

if __name__ == "__main__":
    validate_clip_usage()
