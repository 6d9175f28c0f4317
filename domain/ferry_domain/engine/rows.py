"""Row-level steps before mapping: forward-fill of parent rows (variant
layouts such as Shopify's template) and row filters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ferry.v1 import profile_pb2


def forward_filler(
    ff: profile_pb2.ForwardFill, columns: Sequence[str], kind: str
) -> Callable[[Any], Any] | None:
    """A function that fills blank cells of a row from the first row of its
    group (consecutive rows with the same group value), or None."""
    if not ff.group_column:
        return None
    group = ff.group_column
    fill = [c for c in (ff.columns or columns) if c != group]
    state: dict[str, Any] = {"key": None, "parent": None}

    def parent_of(key: Any, row: Any) -> Any:
        """The first row of the group `row` continues, or None when `row`
        starts a group (it becomes the parent) or has a blank group value."""
        if key in ("", None):
            state["key"] = None
            return None
        if key != state["key"]:
            state["key"], state["parent"] = key, row
            return None
        return state["parent"]

    if kind == "list":
        if group not in columns:
            return None
        gi = columns.index(group)
        idx = [columns.index(c) for c in fill if c in columns]

        def fill_list(row: list) -> list:
            parent = parent_of(row[gi], row)
            if parent is None:
                return row
            row = list(row)
            for i in idx:
                if row[i] in ("", None):
                    row[i] = parent[i]
            return row

        return fill_list

    def fill_dict(row: dict) -> dict:
        parent = parent_of(row.get(group), row)
        if parent is None:
            return row
        row = dict(row)
        for c in ff.columns or list(parent):
            if c != group and row.get(c) in ("", None) and parent.get(c) not in ("", None):
                row[c] = parent[c]
        return row

    return fill_dict


def row_filter(
    filters: Sequence[profile_pb2.RowFilter], columns: Sequence[str], kind: str
) -> Callable[[Any], str] | None:
    """A function returning "" to keep a row, or the reason it is filtered out."""
    if not filters:
        return None
    tests = []
    for f in filters:
        if kind == "list":
            i = columns.index(f.column) if f.column in columns else -1
            get = (lambda row, i=i: row[i]) if i >= 0 else (lambda row: None)
        else:
            get = lambda row, c=f.column: row.get(c)  # noqa: E731
        allowed = {s.strip() for s in f.equals_any}
        tests.append((f, get, allowed))

    def check(row: Any) -> str:
        for f, get, allowed in tests:
            value = get(row)
            text = "" if value is None else str(value).strip()
            match = True
            if allowed:
                match = text in allowed
            if f.not_empty:
                match = match and text != ""
            if f.negate:
                match = not match
            if not match:
                return f"filtered out by {_describe(f)}"
        return ""

    return check


def _describe(f: profile_pb2.RowFilter) -> str:
    parts = []
    if f.equals_any:
        parts.append(f"{f.column} in [{', '.join(f.equals_any)}]")
    if f.not_empty:
        parts.append(f"{f.column} not empty")
    text = " and ".join(parts) or f.column
    return f"not ({text})" if f.negate else text
