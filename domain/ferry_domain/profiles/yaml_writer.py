"""Turn a ``Profile`` into the plain dicts of its YAML document (the inverse of
``yaml_reader``): only fields that are set, in the documented key order. A
section (sub-message) that is present is written even when it is empty, so
presence round-trips (the engine reads ``error_threshold: {max_errors: 0}``
differently from no ``error_threshold``)."""

from __future__ import annotations

import json
from typing import Any

from ferry.durations import format_duration
from ferry.v1 import profile_pb2 as pb

from ferry_domain.profiles.yaml_notifications import notification_documents
from ferry_domain.profiles.yaml_values import ENUMS

_EMPTY = (None, "", [], {}, 0)


class _Keep:
    """A value written even when empty: a present sub-message or optional flag."""

    def __init__(self, value: Any) -> None:
        self.value = value


def enum_text(kind: str, value: int) -> str:
    enum, prefix = ENUMS[kind]
    return enum.Name(value)[len(prefix):].lower()


def _drop_empty(values: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, _Keep):
            kept[key] = value.value
        elif value is not False and value not in _EMPTY:
            kept[key] = value
    return kept


def _section(message: Any, field: str, build) -> _Keep | None:  # type: ignore[no-untyped-def]
    if not message.HasField(field):
        return None
    return _Keep(_drop_empty(build(getattr(message, field))))


def _enum(kind: str, value: int) -> str:
    return enum_text(kind, value) if value else ""


def profile_document(profile: pb.Profile) -> dict[str, Any]:
    return _drop_empty({
        "kind": "Profile",
        "name": profile.name,
        "description": profile.description,
        "entity": profile.entity_type,
        "operation": _enum("operation", profile.operation),
        "source": _section(profile, "source", _source),
        "mapping": _section(profile, "mapping", _mapping),
        "target": _section(profile, "target", lambda t: {
            "kind": _enum("target_kind", t.kind), "dsn": t.dsn_ref, "table": t.table}),
        "export": _section(profile, "export", lambda e: {
            "directory": e.directory, "format": _section(e, "format", _format),
            "prefix": e.file_prefix}),
        "freshness": [enum_text("freshness", m) for m in profile.freshness],
        "expect_change_within": (format_duration(profile.expect_change_within)
                                 if profile.HasField("expect_change_within") else ""),
        "retention": _section(profile, "retention", _retention),
        "retry": _section(profile, "retry", _retry),
        "error_threshold": _section(profile, "error_threshold", _threshold),
        "overlap": _enum("overlap", profile.overlap_policy),
        "on_shape_change": _enum("on_shape_change", profile.on_shape_change),
        "batch_size": profile.batch_size,
        "notifications": notification_documents(profile, enum_text),
        "labels": dict(sorted(profile.labels.items())),
    })


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _source(source: pb.Source) -> dict[str, Any]:
    return {
        "kind": _enum("source_kind", source.kind),
        "location": source.location,
        "selection": _enum("selection", source.selection),
        "format": _section(source, "format", _format),
        "credentials": source.credentials_ref,
        "auth": _enum("auth", source.auth),
        "headers": dict(sorted(source.headers.items())),
        "timeout": format_duration(source.timeout) if source.HasField("timeout") else "",
        "dsn": source.dsn_ref,
        "connector": source.connector,
        "options": dict(sorted(source.options.items())),
        "updated_column": source.updated_column,
        "stable_for": format_duration(source.stable_for) if source.HasField("stable_for") else "",
        "ready_marker": source.ready_marker,
        "host_key": source.host_key,
        "known_hosts": source.known_hosts,
        "tls": _Keep(True) if source.tls else None,
    }


def _format(fmt: pb.Format) -> dict[str, Any]:
    values = {
        "kind": _enum("format_kind", fmt.kind),
        "delimiter": fmt.delimiter,
        "quote_char": fmt.quote_char,
        "header": None,
        "encoding": fmt.encoding,
        "records_path": fmt.records_path,
        "sheet": fmt.sheet,
        "compression": _enum("compression", fmt.compression),
        "member": fmt.member,
    }
    if fmt.HasField("header"):
        values["header"] = _Keep(fmt.header)
    return values


def _mapping(mapping: pb.Mapping) -> dict[str, Any]:
    return {
        "key": list(mapping.key_fields),
        "required": list(mapping.required_fields),
        "defaults": dict(sorted(mapping.defaults.items())),
        "forward_fill": _section(mapping, "forward_fill", lambda f: {
            "group": f.group_column, "columns": list(f.columns)}),
        "filters": [_drop_empty({"column": f.column, "equals_any": list(f.equals_any),
                                 "not_empty": f.not_empty, "negate": f.negate})
                    for f in mapping.filters],
        "fields": {f.target: _field(f) for f in mapping.fields},
    }


def _field(field: pb.FieldMapping) -> Any:
    spec: dict[str, Any] = _drop_empty({
        "source": field.source,
        "sources": list(field.sources),
        "transforms": [_transform(t) for t in field.transforms],
    })
    if field.HasField("default_value"):
        spec["default"] = field.default_value
    if list(spec) == ["source"]:
        return field.source
    return spec


def _transform(transform: pb.Transform) -> Any:
    if not transform.args:
        return transform.name
    return {transform.name: {k: _arg(v) for k, v in sorted(transform.args.items())}}


def _arg(value: str) -> Any:
    """The YAML form of an argument: booleans and JSON lists/maps come back as such."""
    if value in ("true", "false"):
        return value == "true"
    if value[:1] in ("[", "{"):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if json.dumps(decoded, ensure_ascii=False) == value:
            return decoded
    return value


def _retention(retention: pb.RetentionPolicy) -> dict[str, Any]:
    return {
        "on_success": _enum("on_success", retention.on_success),
        "backup_dir": retention.backup_dir,
        "keep_backup_days": retention.keep_backup_days,
        "failed_dir": retention.failed_dir,
        "keep_failed_days": retention.keep_failed_days,
        "sample_rows": retention.sample_rows,
        "masked_fields": list(retention.masked_fields),
        "keep_runs_days": retention.keep_runs_days,
        "keep_min_runs": retention.keep_min_runs,
        "changeset": _enum("changeset", retention.changeset),
    }


def _retry(retry: pb.RetryPolicy) -> dict[str, Any]:
    values: dict[str, Any] = {"max_attempts": retry.max_attempts}
    for key in ("initial_backoff", "max_backoff", "max_elapsed"):
        if retry.HasField(key):
            values[key] = format_duration(getattr(retry, key))
    return values


def _threshold(threshold: pb.ErrorThreshold) -> dict[str, Any]:
    values: dict[str, Any] = {"max_errors": threshold.max_errors,
                              "max_error_percent": _number(threshold.max_error_percent)}
    if not threshold.max_error_percent:
        values["max_errors"] = _Keep(threshold.max_errors)  # a present threshold names it
    return values
