"""Column-at-a-time mapping of a batch of rows.

``BatchMapper(plan, columns, kind, text_rows)`` maps the rows of one source
part with a compiled ``mapping.MappingPlan``. Each field is computed for the
whole batch with C-level loops where the transform allows it (str.strip,
Decimal, int, dict lookups); any value that does not fit the fast path sends
that field of that batch through the value-by-value path, which records the
error of each bad row. The result is identical to mapping row by row; only
the speed differs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

import xxhash

from ferry_domain.engine import values as v
from ferry_domain.engine.errors import RowValueError
from ferry_domain.engine.mapping import FieldPlan, MappingPlan

_ERR = object()  # marks a value that failed
_h = xxhash.xxh3_64_intdigest
_SIGN = 1 << 63
_D = Decimal
_BOOL_TABLE: dict[str, bool] = {}
for _w in v.TRUE_WORDS:
    for _f in (_w, _w.upper(), _w.title()):
        _BOOL_TABLE[_f] = True
for _w in v.FALSE_WORDS:
    for _f in (_w, _w.upper(), _w.title()):
        _BOOL_TABLE[_f] = False


class _Slow(Exception):
    """The fast path does not apply to this column."""


def _none(value: Any) -> None:
    if value is None or value == "":
        return None
    raise _Slow


def _fast_transform(name: str, args: dict[str, str]) -> Callable[[list], list] | None:
    if args:
        return None
    if name == "trim":
        return lambda col: list(map(str.strip, col))
    if name == "lower":
        return lambda col: list(map(str.lower, col))
    if name == "upper":
        return lambda col: list(map(str.upper, col))
    if name == "decimal":

        def dec(col: list) -> list:
            out = [_D(x) if x.__class__ is str and x else _none(x) for x in col]
            for d in out:
                if d is not None and not d.is_finite():
                    raise _Slow
            return out

        return dec
    if name == "integer":
        return lambda col: [int(x) if x.__class__ is str and x else _none(x) for x in col]
    if name == "boolean":
        table = _BOOL_TABLE
        return lambda col: [table[x] if x else None for x in col]
    return None


def _finalizer(plan: FieldPlan) -> Callable[[Any], Any]:
    default, type_, strip = plan.default, plan.type, plan.is_key
    coerce = v.coerce
    is_empty = v.is_empty

    def fin(value: Any) -> Any:
        if is_empty(value):
            return default
        if type_ != "string" or value.__class__ is not str:
            value = coerce(type_, value)
        if strip and value.__class__ is str:
            value = value.strip() or default
        return value

    return fin


def _fast_finalize(plan: FieldPlan, fin: Callable[[Any], Any]) -> Callable[[list], list]:
    default, type_ = plan.default, plan.type
    if type_ == "string":
        if plan.is_key:
            return lambda col: [
                (x.strip() or default) if x.__class__ is str else fin(x) for x in col
            ]
        return lambda col: [(x or default) if x.__class__ is str else fin(x) for x in col]
    cls = {"integer": int, "decimal": Decimal, "boolean": bool}.get(type_)
    if cls is not None:
        if default is None:
            return lambda col: [x if x.__class__ is cls or x is None else fin(x) for x in col]
        return lambda col: [x if x.__class__ is cls else fin(x) for x in col]
    return lambda col: list(map(fin, col))


def _fused(plan: FieldPlan, names: list[str], index: int) -> Callable[[list], list] | None:
    """One pass from text rows to final values for the common simple
    fields (no args, one source); raises to fall back to the general path."""
    if plan.multi or len(plan.sources) != 1 or index < 0:
        return None
    i, d, type_ = index, plan.default, plan.type
    strip = plan.is_key or names[:1] == ["trim"]
    rest = names[1:] if names[:1] == ["trim"] else names
    if type_ == "string" and d is None or (type_ == "string" and isinstance(d, str)):
        if rest == []:
            if strip:
                return lambda rows: [r[i].strip() or d for r in rows]
            return lambda rows: [r[i] or d for r in rows]
        if rest in (["lower"], ["upper"]):
            fn = str.lower if rest == ["lower"] else str.upper
            if strip:
                return lambda rows: [fn(r[i].strip()) or d for r in rows]
            return lambda rows: [fn(r[i]) or d for r in rows]
        return None
    if rest != [type_] and not (type_ == "boolean" and rest == ["boolean"]):
        return None
    if type_ == "decimal":

        def dec(rows: list) -> list:
            out = [_D(x) if (x := r[i]) else d for r in rows]
            for value in out:
                if value is not None and not value.is_finite():
                    raise _Slow
            return out

        return dec
    if type_ == "integer":
        return lambda rows: [int(x) if (x := r[i]) else d for r in rows]
    if type_ == "boolean":
        table = _BOOL_TABLE
        return lambda rows: [table[x] if (x := r[i]) else d for r in rows]
    return None


class FieldVector:
    def __init__(self, plan: FieldPlan, transform_specs: Sequence[tuple[str, dict]]) -> None:
        self.plan = plan
        self.fin = _finalizer(plan)
        self.fast_steps = [_fast_transform(n, a) for n, a in transform_specs]
        self.fast_fin = _fast_finalize(plan, self.fin)

    def element(self, value: Any) -> Any:
        for step in self.plan.transforms:
            value = step(value)
        return self.fin(value)

    def run(self, col: list) -> tuple[list, dict[int, str]]:
        try:
            out = col
            for fast, step in zip(self.fast_steps, self.plan.transforms, strict=True):
                out = fast(out) if fast is not None else list(map(step, out))
            return self.fast_fin(out), {}
        except (
            RowValueError,
            _Slow,
            ValueError,
            TypeError,
            AttributeError,
            KeyError,
            InvalidOperation,
        ):
            return self._slow(col)

    def _slow(self, col: list) -> tuple[list, dict[int, str]]:
        out: list = []
        errors: dict[int, str] = {}
        element = self.element
        for i, x in enumerate(col):
            try:
                out.append(element(x))
            except RowValueError as exc:
                out.append(_ERR)
                errors[i] = str(exc)
        return out, errors


def canonical_column(values: list, type_: str) -> list[str]:
    """Text of each value for the row hash (None is "\\x00")."""
    if type_ in ("string", "email"):
        return [x if x is not None else "\x00" for x in values]
    if type_ in ("integer", "decimal"):
        return [str(x) if x is not None else "\x00" for x in values]
    if type_ == "boolean":
        return [("1" if x else "0") if x is not None else "\x00" for x in values]
    if type_ in ("date", "datetime"):
        return [x.isoformat() if isinstance(x, date) else "\x00" for x in values]
    return [
        json.dumps(x, ensure_ascii=False, default=str) if x is not None else "\x00" for x in values
    ]


def row_hashes(canon_cols: list[list[str]], seed: int = 0) -> list[int]:
    return [
        _h("\x1f".join(t).encode("utf-8", "surrogatepass"), seed) - _SIGN
        for t in zip(*canon_cols, strict=True)
    ]


class BatchMapper:
    """Maps a batch of raw rows of one source part into value columns."""

    def __init__(
        self, plan: MappingPlan, columns: list[str], kind: str, text_rows: bool = False
    ) -> None:
        self.plan = plan
        self.columns = columns
        self.kind = kind
        self.fields = [
            FieldVector(f, [(t.name, dict(t.args)) for t in fm_transforms])
            for f, fm_transforms in zip(plan.fields, _transform_specs(plan), strict=True)
        ]
        index = {c: i for i, c in enumerate(columns)}
        used = [index[c] for c in plan.source_columns if c in index]
        self._all_text = text_rows
        self._single_text = len(used) == 1
        self._text_getter = itemgetter(*used) if used else None
        # Every column used, in file order: a row's text is "\x1f".join(row)
        # for rows of exactly that width (no itemgetter tuple per row).
        self._whole_rows = used == list(range(len(columns))) and len(used) > 1
        self._width = len(columns)
        self._fused = [
            _fused(f, [t.name for t in specs if not t.args], index.get(f.sources[0], -1))
            if text_rows and f.sources and all(not t.args for t in specs)
            else None
            for f, specs in zip(plan.fields, _transform_specs(plan), strict=True)
        ]
        self._seed = _h(plan.digest.encode())
        self.seed = self._seed ^ 0x5EED  # typed-value hashes use another seed
        self._source_index = [
            [index.get(s, -1) for s in f.sources] if kind == "list" else list(f.sources)
            for f in plan.fields
        ]

    def raw_hashes(self, rows: list) -> list[int] | None:
        """Row hashes from the mapped source text (CSV rows, all text): the
        stored values are a function of these and of the mapping, whose
        digest seeds the hash. None when rows are not plain text."""
        if self.kind != "list" or not self._all_text or not rows:
            return None
        getter, seed, h = self._text_getter, self._seed, _h
        if getter is None:
            return [_h(b"", seed) - _SIGN for _ in rows]
        try:
            if self._single_text:
                texts = [getter(r) for r in rows]
            elif self._whole_rows and set(map(len, rows)) == {self._width}:
                texts = list(map("\x1f".join, rows))
            else:
                join = "\x1f".join
                texts = [join(getter(r)) for r in rows]
        except (TypeError, AttributeError):
            return None
        # One encode and one split for the batch instead of one encode per
        # row; a record separator inside the data falls back to per row.
        whole = "\x1e".join(texts)
        if whole.count("\x1e") == len(texts) - 1:
            parts = whole.encode("utf-8", "surrogatepass").split(b"\x1e")
        else:
            parts = [t.encode("utf-8", "surrogatepass") for t in texts]
        sign = _SIGN
        return [h(b, seed) - sign for b in parts]

    def _column(self, rows: list, src: Any) -> list:
        if self.kind == "list":
            if src < 0:
                return [None] * len(rows)
            return [r[src] for r in rows]
        return [r.get(src) for r in rows]

    def source_values(self, rows: list, i: int) -> list:
        plan = self.plan.fields[i]
        srcs = self._source_index[i]
        if not srcs:
            return [None] * len(rows)
        if plan.multi:
            cols = [self._column(rows, s) for s in srcs]
            return [list(t) for t in zip(*cols, strict=True)]
        return self._column(rows, srcs[0])

    def map_columns(
        self, rows: list, only: Sequence[int] | None = None
    ) -> tuple[list[list], dict[int, tuple[str, str]]]:
        """Value columns in plan.targets order (``only`` those fields, in that
        order), and {row index: (field, message)} for rows with a value
        error (first field in mapping order)."""
        cols: list[list] = []
        errors: dict[int, tuple[str, str]] = {}
        for i in range(len(self.fields)) if only is None else only:
            fv = self.fields[i]
            fused = self._fused[i]
            if fused is not None:
                try:
                    cols.append(fused(rows))
                    continue
                except (_Slow, ValueError, TypeError, AttributeError, KeyError, InvalidOperation):
                    pass
            out, errs = fv.run(self.source_values(rows, i))
            cols.append(out)
            for j, message in errs.items():
                errors.setdefault(j, (fv.plan.target, message))
        return cols, errors

    def row_values(self, row: Any) -> dict[str, Any]:
        if self.kind == "dict":
            return dict(row)
        return dict(zip(self.columns, row, strict=False))


def _transform_specs(plan: MappingPlan) -> list[list]:
    by_target = {fm.target: list(fm.transforms) for fm in plan.mapping.fields}
    return [by_target.get(f.target, []) for f in plan.fields]
