"""Helpers for tests that start real processes and talk to real services."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# shared/ sits beside the repository (CI clones it with a copy of shared/ next to it).
SAMPLES = Path(os.environ.get("FERRY_SAMPLES_DIR", ROOT.parent / "shared" / "samples"))
