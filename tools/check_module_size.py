"""Fail when a hand-written module is longer than the limit (``make lint``).

Modules have one job each; a module past about 400 lines is doing several.
Generated code (``common/ferry/v1``), tests and benchmarks are not checked.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("common", "domain", "services", "cli", "tools")
SKIPPED = (Path("common/ferry/v1"),)
LIMIT = 400


def oversized(root: Path = ROOT, limit: int = LIMIT) -> list[tuple[Path, int]]:
    found = []
    for top in CHECKED:
        for path in sorted((root / top).rglob("*.py")):
            relative = path.relative_to(root)
            if any(relative.is_relative_to(skip) for skip in SKIPPED):
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > limit:
                found.append((relative, lines))
    return found


def main() -> int:
    found = oversized()
    for path, lines in found:
        print(f"{path}: {lines} lines, more than {LIMIT}: split it by job", file=sys.stderr)
    if not found:
        print(f"every module is at most {LIMIT} lines")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
