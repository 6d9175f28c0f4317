"""Compiled mappings: source rows in, typed values of the target fields out.

``MappingPlan.from_profile`` compiles a (checked) profile mapping once; a
``ferry_domain.engine.vector.BatchMapper`` built from the plan maps batches
of rows of one source part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ferry.v1 import profile_pb2

from ferry_domain.engine import values as v
from ferry_domain.engine.entities import EntitySchema
from ferry_domain.engine.errors import MappingError, RowValueError
from ferry_domain.engine.transforms import build_transform

Getter = Callable[[Any], Any]


def record_key_fields(mapping: profile_pb2.Mapping, schema: EntitySchema) -> tuple[str, ...]:
    """The fields that identify a record: the mapping's key, else the entity's."""
    return tuple(mapping.key_fields) or schema.key


@dataclass(frozen=True)
class FieldPlan:
    target: str
    type: str
    sources: tuple[str, ...]
    multi: bool  # FieldMapping.sources was used: the value is a list
    transforms: tuple[Callable[[Any], Any], ...]
    default: Any
    is_key: bool


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
        key = record_key_fields(mapping, schema)
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

    @property
    def digest(self) -> str:
        """Identifies the mapping and entity (seeds row hashes)."""
        body = self.mapping.SerializeToString(deterministic=True)
        types = ",".join(f"{f.target}:{f.type}" for f in self.fields)
        return f"{self.schema.name}:{types}:{body.hex()}"
