"""Shape check: fingerprint a source's columns and compare them with the
columns the mapping reads."""

from __future__ import annotations

from collections.abc import Sequence

import xxhash

from ferry_domain.engine.errors import SourceShapeError

MAX_LISTED = 10


def fingerprint(columns: Sequence[str]) -> str:
    """Order-insensitive fingerprint of the column names ("" when none)."""
    if not columns:
        return ""
    return "cols1:" + xxhash.xxh3_64_hexdigest("\x1f".join(sorted(columns)).encode())


def _names(columns: Sequence[str]) -> str:
    shown = ", ".join(repr(c) for c in columns[:MAX_LISTED])
    more = len(columns) - MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def check_shape(
    name: str,
    columns: Sequence[str],
    mapped: Sequence[str],
    optional: set[str],
    mode: str = "fail",
) -> tuple[str, list[str]]:
    """Return (fingerprint, warnings); raise SourceShapeError when mapped
    columns are missing (unless they have a default, or ``mode`` is "warn"
    or "off")."""
    fp = fingerprint(columns)
    if mode == "off":
        return fp, []
    present = set(columns)
    missing = [c for c in mapped if c not in present and c not in optional]
    unmapped = [c for c in columns if c not in set(mapped)]
    warnings: list[str] = []
    if missing:
        message = f"source changed shape: missing {_names(missing)}"
        if unmapped:
            message += f", new {_names(unmapped)}"
        if mode == "warn":
            warnings.append(f"{name}: {message}")
        else:
            raise SourceShapeError(f"{name}: {message}", fp)
    if unmapped:
        warnings.append(
            f"{name}: {len(unmapped)} source columns are not mapped: {_names(unmapped)}"
        )
    return fp, warnings
