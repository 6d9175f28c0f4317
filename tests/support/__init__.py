"""Helpers for tests that start real processes and talk to real services."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Byte-identical copies of the public commerce samples (their README gives each blob id).
SAMPLES = Path(os.environ.get("FERRY_SAMPLES_DIR", ROOT / "examples" / "data" / "samples"))
