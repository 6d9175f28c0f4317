"""Static checks of a profile against its entity schema; no I/O.

Field paths are dotted, relative to the profile:
``mapping.fields[2].transforms[0].name``, ``mapping.key_fields``,
``entity_type``, ``source.format.delimiter``.
"""

from __future__ import annotations

import codecs
import re
from urllib.parse import urlsplit

from ferry.errors import Violation
from ferry.secrets import check_secret_ref
from ferry.v1 import profile_pb2

from ferry_domain.engine import values as v
from ferry_domain.engine.entities import EntitySchema, get_entity
from ferry_domain.engine.errors import RowValueError
from ferry_domain.engine.formats.dispatch import FORMAT_NAMES
from ferry_domain.engine.sources.files import is_glob
from ferry_domain.engine.transforms import check_transform

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_PREFIX = re.compile(r"^[A-Za-z0-9._-]{0,100}$")
_EXPORT_KINDS = (
    profile_pb2.FORMAT_KIND_UNSPECIFIED,
    profile_pb2.FORMAT_KIND_CSV,
    profile_pb2.FORMAT_KIND_JSON,
    profile_pb2.FORMAT_KIND_XLSX,
)


def check_profile(profile: profile_pb2.Profile) -> list[Violation]:
    out: list[Violation] = []
    add = lambda field, text: out.append(Violation(field, text))  # noqa: E731
    schema: EntitySchema | None = None
    if not profile.entity_type:
        add("entity_type", "is required")
    else:
        try:
            schema = get_entity(profile.entity_type)
        except KeyError:
            from ferry_domain.engine.entities import list_entities

            known = ", ".join(s.name for s in list_entities())
            add("entity_type", f"unknown entity type {profile.entity_type!r}; known: {known}")
    if profile.batch_size < 0:
        add("batch_size", "must not be negative")
    _check_target(profile.target, out)
    if profile.operation == profile_pb2.OPERATION_EXPORT:
        _check_export(profile.export, out)
        return out
    _check_source(profile.source, out)
    _check_threshold(profile.error_threshold, out)
    if schema is not None:
        _check_mapping(profile.mapping, schema, out)
    return out


def _check_target(target: profile_pb2.Target, out: list[Violation]) -> None:
    if target.kind not in (profile_pb2.TARGET_KIND_UNSPECIFIED, profile_pb2.TARGET_KIND_SQL):
        out.append(Violation("target.kind", "only TARGET_KIND_SQL is supported"))
    out.extend(check_secret_ref(target.dsn_ref, "target.dsn_ref"))
    if target.table and not _IDENT.match(target.table):
        out.append(Violation("target.table", "must be a plain SQL identifier (letters, digits, _)"))


def _check_export(export: profile_pb2.ExportSpec, out: list[Violation]) -> None:
    if not export.directory:
        out.append(Violation("export.directory", "is required for an export"))
    if export.format.kind not in _EXPORT_KINDS:
        out.append(Violation("export.format.kind", "exports write CSV, JSON or XLSX"))
    if not _PREFIX.match(export.file_prefix):
        out.append(Violation("export.file_prefix", "use letters, digits, '.', '_' and '-' only"))
    _check_format(export.format, "export.format", out)


def _check_format(fmt: profile_pb2.Format, path: str, out: list[Violation]) -> None:
    if fmt.delimiter and len(fmt.delimiter) != 1:
        out.append(Violation(f"{path}.delimiter", "must be one character"))
    if fmt.quote_char and len(fmt.quote_char) != 1:
        out.append(Violation(f"{path}.quote_char", "must be one character"))
    if fmt.encoding:
        try:
            codecs.lookup(fmt.encoding)
        except LookupError:
            out.append(Violation(f"{path}.encoding", f"unknown text encoding {fmt.encoding!r}"))


def _check_source(source: profile_pb2.Source, out: list[Violation]) -> None:
    kind = source.kind
    if kind == profile_pb2.SOURCE_KIND_UNSPECIFIED:
        out.append(Violation("source.kind", "is required (FILE, HTTP, SQL or CONNECTOR)"))
    if kind in (profile_pb2.SOURCE_KIND_FILE, profile_pb2.SOURCE_KIND_HTTP):
        if not source.location:
            out.append(Violation("source.location", "is required"))
    if kind == profile_pb2.SOURCE_KIND_FILE:
        if source.selection == profile_pb2.FILE_SELECTION_SINGLE and is_glob(source.location):
            out.append(Violation("source.selection", "SINGLE needs a path, not a glob"))
    if kind == profile_pb2.SOURCE_KIND_HTTP:
        if not source.location.lower().startswith(("http://", "https://")):
            out.append(Violation("source.location", "must be an http:// or https:// URL"))
        if urlsplit(source.location).username or urlsplit(source.location).password:
            out.append(
                Violation("source.location", "must not hold credentials; use credentials_ref")
            )
    if kind == profile_pb2.SOURCE_KIND_SQL:
        if not source.location.strip():
            out.append(Violation("source.location", "is required (the SQL query)"))
        if not source.dsn_ref:
            out.append(Violation("source.dsn_ref", "is required for SQL sources"))
    if kind == profile_pb2.SOURCE_KIND_CONNECTOR and not source.connector:
        out.append(Violation("source.connector", "is required for connector sources"))
    if source.auth in (profile_pb2.AUTH_KIND_BEARER, profile_pb2.AUTH_KIND_BASIC):
        if not source.credentials_ref:
            out.append(Violation("source.credentials_ref", "is required for bearer or basic auth"))
    out.extend(check_secret_ref(source.credentials_ref, "source.credentials_ref"))
    out.extend(check_secret_ref(source.dsn_ref, "source.dsn_ref"))
    fmt_option = source.options.get("format", "")
    if fmt_option and fmt_option.lower() not in FORMAT_NAMES:
        out.append(Violation("source.options.format", f"must be one of {', '.join(FORMAT_NAMES)}"))
    _check_format(source.format, "source.format", out)


def _check_threshold(threshold: profile_pb2.ErrorThreshold, out: list[Violation]) -> None:
    if threshold.max_errors < -1:
        out.append(Violation("error_threshold.max_errors", "must be -1 (no limit) or more"))
    if not 0 <= threshold.max_error_percent <= 100:
        out.append(Violation("error_threshold.max_error_percent", "must be between 0 and 100"))


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
