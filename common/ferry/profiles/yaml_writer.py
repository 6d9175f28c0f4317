"""Turn a ``Profile`` into the plain dicts of its YAML document (the inverse of
``yaml_reader``): only fields that are set, in the documented key order."""

from __future__ import annotations

import json
from typing import Any

from ferry.profiles.durations import format_duration
from ferry.profiles.yaml_reader import ENUMS
from ferry.v1 import profile_pb2 as pb


def enum_text(kind: str, value: int) -> str:
    enum, prefix = ENUMS[kind]
    return enum.Name(value)[len(prefix):].lower()


def _drop_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "", [], {}, 0)}


def profile_document(profile: pb.Profile) -> dict[str, Any]:
    doc: dict[str, Any] = {"kind": "Profile", "name": profile.name}
    doc["description"] = profile.description
    doc["entity"] = profile.entity_type
    if profile.operation:
        doc["operation"] = enum_text("operation", profile.operation)
    if profile.HasField("source"):
        doc["source"] = _source(profile.source)
    if profile.HasField("mapping"):
        doc["mapping"] = _mapping(profile.mapping)
    if profile.HasField("target"):
        doc["target"] = _drop_empty({
            "kind": enum_text("target_kind", profile.target.kind) if profile.target.kind else "",
            "dsn": profile.target.dsn_ref,
            "table": profile.target.table,
        })
    if profile.HasField("export"):
        doc["export"] = _drop_empty({
            "directory": profile.export.directory,
            "format": _format(profile.export.format) if profile.export.HasField("format") else {},
            "prefix": profile.export.file_prefix,
        })
    doc["freshness"] = [enum_text("freshness", m) for m in profile.freshness]
    if profile.HasField("retention"):
        doc["retention"] = _retention(profile.retention)
    if profile.HasField("retry"):
        doc["retry"] = _retry(profile.retry)
    if profile.HasField("error_threshold"):
        threshold = profile.error_threshold
        doc["error_threshold"] = _drop_empty({
            "max_errors": threshold.max_errors,
            "max_error_percent": _number(threshold.max_error_percent),
        })
    if profile.overlap_policy:
        doc["overlap"] = enum_text("overlap", profile.overlap_policy)
    doc["batch_size"] = profile.batch_size
    doc["labels"] = dict(sorted(profile.labels.items()))
    return _drop_empty(doc)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _source(source: pb.Source) -> dict[str, Any]:
    return _drop_empty({
        "kind": enum_text("source_kind", source.kind) if source.kind else "",
        "location": source.location,
        "selection": enum_text("selection", source.selection) if source.selection else "",
        "format": _format(source.format) if source.HasField("format") else {},
        "credentials": source.credentials_ref,
        "auth": enum_text("auth", source.auth) if source.auth else "",
        "headers": dict(sorted(source.headers.items())),
        "timeout": format_duration(source.timeout) if source.HasField("timeout") else "",
        "dsn": source.dsn_ref,
        "connector": source.connector,
        "options": dict(sorted(source.options.items())),
        "updated_column": source.updated_column,
    })


def _format(fmt: pb.Format) -> dict[str, Any]:
    header = fmt.header if fmt.HasField("header") else None
    values = {
        "kind": enum_text("format_kind", fmt.kind) if fmt.kind else "",
        "delimiter": fmt.delimiter,
        "quote_char": fmt.quote_char,
        "header": "keep" if header is not None else None,
        "encoding": fmt.encoding,
        "records_path": fmt.records_path,
        "sheet": fmt.sheet,
        "compression": enum_text("compression", fmt.compression) if fmt.compression else "",
        "member": fmt.member,
    }
    values = _drop_empty(values)
    if header is not None:
        values["header"] = header  # a present false is kept
    return values


def _mapping(mapping: pb.Mapping) -> dict[str, Any]:
    fill = mapping.forward_fill
    return _drop_empty({
        "key": list(mapping.key_fields),
        "required": list(mapping.required_fields),
        "defaults": dict(sorted(mapping.defaults.items())),
        "forward_fill": _drop_empty({"group": fill.group_column, "columns": list(fill.columns)}),
        "filters": [_drop_empty({"column": f.column, "equals_any": list(f.equals_any),
                                 "not_empty": f.not_empty, "negate": f.negate})
                    for f in mapping.filters],
        "fields": {f.target: _field(f) for f in mapping.fields},
    })


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
    on_success = retention.on_success
    return _drop_empty({
        "on_success": enum_text("on_success", on_success) if on_success else "",
        "backup_dir": retention.backup_dir,
        "failed_dir": retention.failed_dir,
        "keep_failed_days": retention.keep_failed_days,
        "sample_rows": retention.sample_rows,
        "masked_fields": list(retention.masked_fields),
        "keep_runs_days": retention.keep_runs_days,
        "keep_min_runs": retention.keep_min_runs,
    })


def _retry(retry: pb.RetryPolicy) -> dict[str, Any]:
    values: dict[str, Any] = _drop_empty({"max_attempts": retry.max_attempts})
    for key in ("initial_backoff", "max_backoff", "max_elapsed"):
        if retry.HasField(key):
            values[key] = format_duration(getattr(retry, key))
    return values
