"""docs/architecture.md names, for each invariant, the code that enforces it:
every dotted name in its "enforced in" column must exist."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _enforced_names() -> list[str]:
    names = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == 6 and cells[1].isdigit():
            names += re.findall(r"`(ferry(?:_\w+)?(?:\.\w+)+)`", cells[3])
    return names


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(dotted)


def test_the_table_names_code() -> None:
    assert len(_enforced_names()) >= 15


@pytest.mark.parametrize("dotted", _enforced_names())
def test_enforced_in_names_exist(dotted: str) -> None:
    assert _resolve(dotted) is not None
