"""The engine's static checks of a profile: the rules only the engine can
decide, against its catalogue and capabilities; no I/O.

- the entity type is one the engine knows, and the mapping fits its schema:
  target fields exist and are mapped once, key and required fields are
  mapped, defaults parse as the field's type, transforms and their arguments
  are known, forward fill and filters are complete;
- a source's ``options.format`` is a format the engine reads, and a SINGLE
  file selection is a path, not a glob;
- the target kind and the export format are ones the engine writes.

``run_profile`` refuses a profile that fails here. Every other rule of a
profile (presence, secret references, names, ranges) is in
``ferry_domain.profiles.validation``, whose ``validate_profile`` is the one
entry point of static validation and includes these checks.

Field paths are dotted, relative to the profile:
``mapping.fields[2].transforms[0].name``, ``mapping.key_fields``,
``entity_type``, ``source.options.format``.
"""

from __future__ import annotations

from ferry.errors import Violation
from ferry.v1 import profile_pb2

from ferry_domain.engine import values as v
from ferry_domain.engine.entities import EntitySchema, get_entity, list_entities
from ferry_domain.engine.errors import RowValueError
from ferry_domain.engine.formats.dispatch import FORMAT_NAMES
from ferry_domain.engine.sources.files import is_glob
from ferry_domain.engine.transforms import check_transform

_EXPORT_KINDS = (
    profile_pb2.FORMAT_KIND_UNSPECIFIED,
    profile_pb2.FORMAT_KIND_CSV,
    profile_pb2.FORMAT_KIND_JSON,
    profile_pb2.FORMAT_KIND_XLSX,
)


def check_profile(profile: profile_pb2.Profile) -> list[Violation]:
    out: list[Violation] = []
    schema = _check_entity(profile.entity_type, out)
    if profile.target.kind not in (
        profile_pb2.TARGET_KIND_UNSPECIFIED,
        profile_pb2.TARGET_KIND_SQL,
    ):
        out.append(Violation("target.kind", "only TARGET_KIND_SQL is supported"))
    if profile.operation == profile_pb2.OPERATION_EXPORT:
        if profile.export.format.kind not in _EXPORT_KINDS:
            out.append(Violation("export.format.kind", "exports write CSV, JSON or XLSX"))
        return out
    _check_source(profile.source, out)
    if schema is not None:
        _check_mapping(profile.mapping, schema, out)
    return out


def _check_entity(entity_type: str, out: list[Violation]) -> EntitySchema | None:
    if not entity_type:
        out.append(Violation("entity_type", "is required (e.g. products, customers, inventory)"))
        return None
    try:
        return get_entity(entity_type)
    except KeyError:
        known = ", ".join(s.name for s in list_entities())
        out.append(Violation("entity_type",
                             f"unknown entity type {entity_type!r}; known: {known}"))
        return None


def _check_source(source: profile_pb2.Source, out: list[Violation]) -> None:
    if (
        source.kind == profile_pb2.SOURCE_KIND_FILE
        and source.selection == profile_pb2.FILE_SELECTION_SINGLE
        and is_glob(source.location)
    ):
        out.append(Violation("source.selection", "SINGLE needs a path, not a glob"))
    fmt_option = source.options.get("format", "")
    if fmt_option and fmt_option.lower() not in FORMAT_NAMES:
        out.append(Violation("source.options.format", f"must be one of {', '.join(FORMAT_NAMES)}"))


def _check_default(text: str, type_: str, path: str, out: list[Violation]) -> None:
    if text == "":
        return
    try:
        v.coerce(type_, text)
    except RowValueError as exc:
        out.append(Violation(path, f"not a valid {type_}: {exc}"))


def _check_mapping(
    mapping: profile_pb2.Mapping, schema: EntitySchema, out: list[Violation]
) -> None:
    add = lambda field, text: out.append(Violation(field, text))  # noqa: E731
    if not mapping.fields:
        add("mapping.fields", "at least one field must be mapped")
    mapped: dict[str, int] = {}
    for i, fm in enumerate(mapping.fields):
        path = f"mapping.fields[{i}]"
        spec = schema.field_map.get(fm.target)
        if not fm.target:
            add(f"{path}.target", "is required")
        elif spec is None:
            add(
                f"{path}.target",
                f"unknown field {fm.target!r} of {schema.name}; "
                f"fields: {', '.join(schema.field_map)}",
            )
        elif fm.target in mapped:
            add(
                f"{path}.target",
                f"{fm.target!r} is mapped twice (also fields[{mapped[fm.target]}])",
            )
        else:
            mapped[fm.target] = i
        names = [t.name for t in fm.transforms]
        if fm.source and fm.sources:
            add(f"{path}.sources", "give source or sources, not both")
        has_value = (
            fm.source
            or fm.sources
            or "constant" in names
            or "default" in names
            or fm.HasField("default_value")
            or fm.target in mapping.defaults
        )
        if not has_value:
            add(f"{path}.source", "is required (or sources, or a constant/default)")
        if fm.sources and "concat" not in names and not (spec and spec.type == "list"):
            add(f"{path}.transforms", "several sources need a concat transform (or a list field)")
        for j, t in enumerate(fm.transforms):
            for sub, text in check_transform(t.name, t.args):
                add(f"{path}.transforms[{j}].{sub}", text)
        if spec is not None and fm.HasField("default_value"):
            _check_default(fm.default_value, spec.type, f"{path}.default_value", out)
    for target, text in mapping.defaults.items():
        spec = schema.field_map.get(target)
        if spec is None:
            add(f"mapping.defaults.{target}", f"unknown field {target!r} of {schema.name}")
        else:
            _check_default(text, spec.type, f"mapping.defaults.{target}", out)
            mapped.setdefault(target, -1)
    key = list(mapping.key_fields) or list(schema.key)
    for k in key:
        if k not in schema.field_map:
            add("mapping.key_fields", f"{k!r} is not a field of {schema.name}")
        elif k not in mapped:
            add("mapping.key_fields", f"key field {k!r} is not mapped")
    for r in mapping.required_fields:
        if r not in schema.field_map:
            add("mapping.required_fields", f"{r!r} is not a field of {schema.name}")
    for r in dict.fromkeys([*schema.required, *mapping.required_fields]):
        if r in schema.field_map and r not in mapped and r not in key:
            add("mapping.fields", f"required field {r!r} is not mapped")
    if mapping.forward_fill.columns and not mapping.forward_fill.group_column:
        add("mapping.forward_fill.group_column", "is required when columns are given")
    for i, f in enumerate(mapping.filters):
        if not f.column:
            add(f"mapping.filters[{i}].column", "is required")
