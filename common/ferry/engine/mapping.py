"""Compiled mappings: source rows in, typed values of the target fields out.

``MappingPlan.from_profile`` compiles a (checked) profile mapping once;
``plan.bind(columns, kind)`` returns a ``RowMapper`` for one source part.
A row is either mapped (a list of values in ``plan.targets`` order), skipped
(``RowSkip``: missing key) or in error (``RowFail``: field and message).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from ferry.engine import values as v
from ferry.engine.entities import EntitySchema
from ferry.engine.errors import MappingError, RowValueError
from ferry.engine.transforms import build_transform
from ferry.v1 import profile_pb2

Getter = Callable[[Any], Any]


class RowSkip(Exception):
    def __init__(self, reason: str, field: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class RowFail(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class FieldPlan:
    target: str
    type: str
    sources: tuple[str, ...]
    multi: bool  # FieldMapping.sources was used: the value is a list
    transforms: tuple[Callable[[Any], Any], ...]
    default: Any
    is_key: bool


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


class MappingPlan:
    def __init__(
        self,
        schema: EntitySchema,
        fields: list[FieldPlan],
        key: tuple[str, ...],
        required: tuple[str, ...],
        mapping: profile_pb2.Mapping,
    ) -> None:
        self.schema = schema
        self.fields = fields
        self.targets = [f.target for f in fields]
        self.key = key
        self.key_index = tuple(self.targets.index(k) for k in key)
        self.required_index = tuple(
            self.targets.index(r) for r in required if r in self.targets and r not in key
        )
        self.mapping = mapping

    @classmethod
    def from_profile(cls, mapping: profile_pb2.Mapping, schema: EntitySchema) -> MappingPlan:
        key = tuple(mapping.key_fields) or schema.key
        required = tuple(dict.fromkeys([*schema.required, *mapping.required_fields]))
        fields: list[FieldPlan] = []
        for fm in mapping.fields:
            spec = schema.field_map.get(fm.target)
            if spec is None:
                raise MappingError(f"unknown target field {fm.target!r}")
            try:
                transforms = tuple(build_transform(t.name, t.args) for t in fm.transforms)
            except (KeyError, ValueError) as exc:
                raise MappingError(f"mapping of {fm.target!r}: {exc}") from None
            default_text = (
                fm.default_value
                if fm.HasField("default_value")
                else mapping.defaults.get(fm.target)
            )
            default = None
            if default_text is not None and default_text != "":
                try:
                    default = v.coerce(spec.type, default_text)
                except RowValueError as exc:
                    raise MappingError(f"default of {fm.target!r}: {exc}") from None
            sources = tuple(fm.sources) if fm.sources else ((fm.source,) if fm.source else ())
            fields.append(
                FieldPlan(
                    fm.target,
                    spec.type,
                    sources,
                    bool(fm.sources),
                    transforms,
                    default,
                    fm.target in key,
                )
            )
        for target, text in mapping.defaults.items():
            spec = schema.field_map.get(target)
            if spec is None or target in [f.target for f in fields] or text == "":
                continue
            try:
                default = v.coerce(spec.type, text)
            except RowValueError as exc:
                raise MappingError(f"default of {target!r}: {exc}") from None
            fields.append(FieldPlan(target, spec.type, (), False, (), default, target in key))
        missing = [k for k in key if k not in [f.target for f in fields]]
        if missing:
            raise MappingError(f"key field(s) not mapped: {', '.join(missing)}")
        return cls(schema, fields, key, required, mapping)

    @property
    def source_columns(self) -> list[str]:
        """Source columns the mapping reads, in mapping order."""
        cols: dict[str, None] = {}
        for f in self.fields:
            for s in f.sources:
                cols.setdefault(s, None)
        return list(cols)

    @property
    def optional_columns(self) -> set[str]:
        """Columns whose absence is tolerated: their field has a default."""
        return {s for f in self.fields if f.default is not None for s in f.sources}

    def bind(self, columns: Sequence[str], kind: str) -> RowMapper:
        return RowMapper(self, list(columns), kind)


def _getter(column: str, columns: list[str], kind: str) -> Getter:
    if kind == "dict":
        return lambda row, c=column: row.get(c)
    if column not in columns:
        return lambda row: None
    index = columns.index(column)
    return itemgetter(index)


def _field_fn(plan: FieldPlan, columns: list[str], kind: str) -> Callable[[Any], Any]:
    if not plan.sources:
        get: Getter = lambda row: None  # noqa: E731 - constant/default only
    elif plan.multi:
        getters = [_getter(s, columns, kind) for s in plan.sources]
        get = lambda row: [g(row) for g in getters]  # noqa: E731
    else:
        get = _getter(plan.sources[0], columns, kind)
    chain = plan.transforms
    default = plan.default
    type_ = plan.type
    coerce = v.coerce
    strip = plan.is_key

    if type_ == "string" and not chain:

        def plain(row: Any) -> Any:
            value = get(row)
            if value is None or value == "":
                return default
            if value.__class__ is not str:
                value = coerce(type_, value)
            if strip:
                value = value.strip() or default
            return value

        return plain

    def full(row: Any) -> Any:
        value = get(row)
        for step in chain:
            value = step(value)
        if _is_empty(value):
            return default
        if type_ != "string" or value.__class__ is not str:
            value = coerce(type_, value)
        if strip and value.__class__ is str:
            value = value.strip() or default
        return value

    return full


class RowMapper:
    def __init__(self, plan: MappingPlan, columns: list[str], kind: str) -> None:
        self.plan = plan
        self.columns = columns
        self.kind = kind
        self._fns = [_field_fn(f, columns, kind) for f in plan.fields]
        self._targets = plan.targets
        self._key_index = plan.key_index
        self._required_index = plan.required_index

    def map(self, row: Any) -> list[Any]:
        try:
            out = [fn(row) for fn in self._fns]
        except RowValueError:
            out = self._locate_error(row)
        for i in self._key_index:
            if out[i] is None:
                raise RowSkip(f"missing key: {self._targets[i]}", self._targets[i])
        for i in self._required_index:
            if _is_empty(out[i]):
                raise RowFail(self._targets[i], "required field is empty")
        return out

    def _locate_error(self, row: Any) -> list[Any]:
        out = []
        for target, fn in zip(self._targets, self._fns, strict=True):
            try:
                out.append(fn(row))
            except RowValueError as exc:
                raise RowFail(target, str(exc)) from None
        return out

    def row_values(self, row: Any) -> dict[str, Any]:
        """The source row as a dict (for rejected-row samples)."""
        if self.kind == "dict":
            return dict(row)
        return dict(zip(self.columns, row, strict=False))
