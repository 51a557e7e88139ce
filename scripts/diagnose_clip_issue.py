#!/usr/bin/env python3
"""The guide's `scripts/diagnose_clip_issue.py`: runs `clipaware diagnose` (see clipaware.guide_scripts; no logic here).

Works from a clone without installing (the clone's src/ comes first on the path) and installed, where the
same function is also the console script `clipaware-diagnose-clip-issue`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from clipaware.guide_scripts import diagnose_clip_issue

if __name__ == "__main__":
    diagnose_clip_issue()
