"""Turn one parsed YAML document (plain dicts and lists) into a ``Profile``.

``ProfileReader`` walks the document with a table of known keys per section,
collecting a :class:`ferry.errors.Violation` for every unknown key, wrong type
or unknown enum value instead of stopping at the first one. The format is
described in docs/profiles.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ferry.v1 import profile_pb2 as pb

from ferry_domain.profiles.yaml_notifications import read_notifications
from ferry_domain.profiles.yaml_values import YamlValueReader, type_name

TOP_KEYS = ("kind", "name", "description", "entity", "operation", "source", "mapping", "target",
            "export", "freshness", "retention", "retry", "error_threshold", "overlap",
            "on_shape_change", "batch_size", "labels", "expect_change_within", "notifications")
SOURCE_KEYS = ("kind", "location", "selection", "format", "credentials", "auth", "headers",
               "timeout", "dsn", "connector", "options", "updated_column", "stable_for",
               "ready_marker", "host_key", "known_hosts", "tls")
FORMAT_KEYS = ("kind", "delimiter", "quote_char", "header", "encoding", "records_path", "sheet",
               "compression", "member")
MAPPING_KEYS = ("key", "required", "defaults", "forward_fill", "filters", "fields")
FIELD_KEYS = ("source", "sources", "transforms", "default")
FILTER_KEYS = ("column", "equals_any", "not_empty", "negate")
FORWARD_FILL_KEYS = ("group", "columns")
TARGET_KEYS = ("kind", "dsn", "table")
EXPORT_KEYS = ("directory", "format", "prefix")
RETENTION_KEYS = ("on_success", "backup_dir", "keep_backup_days", "failed_dir",
                  "keep_failed_days", "sample_rows", "masked_fields", "keep_runs_days",
                  "keep_min_runs", "changeset")
RETRY_KEYS = ("max_attempts", "initial_backoff", "max_backoff", "max_elapsed")
THRESHOLD_KEYS = ("max_errors", "max_error_percent")


class ProfileReader(YamlValueReader):
    """Reads one document; ``violations`` holds what was wrong with it."""

    def profile(self, document: Any) -> pb.Profile:
        profile = pb.Profile()
        doc = self.section(document, "", TOP_KEYS)
        if not isinstance(document, dict):
            return profile
        readers: dict[str, Callable[[Any], None]] = {
            "kind": lambda v: self._kind(v),
            "name": lambda v: setattr(profile, "name", self.text(v, "name")),
            "description": lambda v: setattr(profile, "description", self.text(v, "description")),
            "entity": lambda v: setattr(profile, "entity_type", self.text(v, "entity")),
            "operation": lambda v: setattr(profile, "operation",
                                           self.enum(v, "operation", "operation")),
            "source": lambda v: self._source(v, "source", profile.source),
            "mapping": lambda v: self._mapping(v, profile.mapping),
            "target": lambda v: self._target(v, profile.target),
            "export": lambda v: self._export(v, profile.export),
            "freshness": lambda v: profile.freshness.extend(
                self.enum(item, "freshness", f"freshness[{i}]")
                for i, item in enumerate(v if isinstance(v, list) else [v])),
            "retention": lambda v: self._retention(v, profile.retention),
            "retry": lambda v: self._retry(v, profile.retry),
            "error_threshold": lambda v: self._threshold(v, profile.error_threshold),
            "overlap": lambda v: setattr(profile, "overlap_policy",
                                         self.enum(v, "overlap", "overlap")),
            "on_shape_change": lambda v: setattr(
                profile, "on_shape_change", self.enum(v, "on_shape_change", "on_shape_change")),
            "batch_size": lambda v: setattr(profile, "batch_size",
                                            self.integer(v, "batch_size")),
            "labels": lambda v: profile.labels.update(self.text_map(v, "labels")),
            "expect_change_within": lambda v: self.duration(v, "expect_change_within",
                                                            profile.expect_change_within),
            "notifications": lambda v: read_notifications(self, v, profile),
        }
        for key, value in doc.items():
            readers[key](value)
        return profile

    def _kind(self, value: Any) -> None:
        if value != "Profile":
            self.fail("kind", f'expected "Profile", got {type_name(value)}')

    def _source(self, value: Any, path: str, source: pb.Source) -> None:
        spec = self.section(value, path, SOURCE_KEYS, source)
        simple = {"location": "location", "credentials": "credentials_ref", "dsn": "dsn_ref",
                  "connector": "connector", "updated_column": "updated_column",
                  "ready_marker": "ready_marker", "host_key": "host_key",
                  "known_hosts": "known_hosts"}
        for key, item in spec.items():
            where = f"{path}.{key}"
            if key in simple:
                setattr(source, simple[key], self.text(item, where))
            elif key == "kind":
                source.kind = self.enum(item, "source_kind", where)
            elif key == "selection":
                source.selection = self.enum(item, "selection", where)
            elif key == "auth":
                source.auth = self.enum(item, "auth", where)
            elif key == "format":
                self._format(item, where, source.format)
            elif key == "headers":
                source.headers.update(self.text_map(item, where))
            elif key == "options":
                source.options.update(self.text_map(item, where))
            elif key == "timeout":
                self.duration(item, where, source.timeout)
            elif key == "stable_for":
                self.duration(item, where, source.stable_for)
            elif key == "tls":
                source.tls = self.boolean(item, where)

    def _format(self, value: Any, path: str, fmt: pb.Format) -> None:
        spec = self.section(value, path, FORMAT_KEYS, fmt)
        for key, item in spec.items():
            where = f"{path}.{key}"
            if key == "kind":
                fmt.kind = self.enum(item, "format_kind", where)
            elif key == "compression":
                fmt.compression = self.enum(item, "compression", where)
            elif key == "header":
                fmt.header = self.boolean(item, where)
            else:
                setattr(fmt, key, self.text(item, where))

    def _mapping(self, value: Any, mapping: pb.Mapping) -> None:
        spec = self.section(value, "mapping", MAPPING_KEYS, mapping)
        for key, item in spec.items():
            where = f"mapping.{key}"
            if key == "key":
                mapping.key_fields.extend(self.text_list(item, where))
            elif key == "required":
                mapping.required_fields.extend(self.text_list(item, where))
            elif key == "defaults":
                mapping.defaults.update(self.text_map(item, where))
            elif key == "forward_fill":
                fill = self.section(item, where, FORWARD_FILL_KEYS, mapping.forward_fill)
                if "group" in fill:
                    mapping.forward_fill.group_column = self.text(fill["group"], f"{where}.group")
                if "columns" in fill:
                    mapping.forward_fill.columns.extend(
                        self.text_list(fill["columns"], f"{where}.columns"))
            elif key == "filters":
                self._filters(item, where, mapping)
            elif key == "fields":
                self._fields(item, where, mapping)

    def _filters(self, value: Any, path: str, mapping: pb.Mapping) -> None:
        for where, spec in self.section_list(value, path, FILTER_KEYS, "filters"):
            row_filter = mapping.filters.add()
            if "column" in spec:
                row_filter.column = self.text(spec["column"], f"{where}.column")
            if "equals_any" in spec:
                row_filter.equals_any.extend(
                    self.text_list(spec["equals_any"], f"{where}.equals_any"))
            if "not_empty" in spec:
                row_filter.not_empty = self.boolean(spec["not_empty"], f"{where}.not_empty")
            if "negate" in spec:
                row_filter.negate = self.boolean(spec["negate"], f"{where}.negate")

    def _fields(self, value: Any, path: str, mapping: pb.Mapping) -> None:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping of target field to source column or spec, "
                            f"got {type_name(value)}")
            return
        for target, spec in value.items():
            where = f"{path}.{target}"
            field = mapping.fields.add(target=self.text(target, path))
            if isinstance(spec, dict):
                self._field_spec(spec, where, field)
            elif spec is None or isinstance(spec, list):
                self.fail(where, f"expected a source column or a mapping with source, sources, "
                                 f"transforms, default; got {type_name(spec)}")
            else:
                field.source = self.text(spec, where)

    def _field_spec(self, value: Any, path: str, field: pb.FieldMapping) -> None:
        spec = self.section(value, path, FIELD_KEYS)
        if "source" in spec:
            field.source = self.text(spec["source"], f"{path}.source")
        if "sources" in spec:
            field.sources.extend(self.text_list(spec["sources"], f"{path}.sources"))
        if "default" in spec:
            field.default_value = self.text(spec["default"], f"{path}.default")
        if "transforms" in spec:
            items = spec["transforms"]
            if not isinstance(items, list):
                items = [items]
            for i, item in enumerate(items):
                self._transform(item, f"{path}.transforms[{i}]", field.transforms.add())

    def _transform(self, value: Any, path: str, transform: pb.Transform) -> None:
        if isinstance(value, str):
            transform.name = value
            return
        if isinstance(value, dict) and len(value) == 1:
            name, args = next(iter(value.items()))
            transform.name = self.text(name, path)
            if args is None:
                return
            if not isinstance(args, dict):
                self.fail(f"{path}.{name}", f"expected a mapping of arguments, "
                                            f"got {type_name(args)}")
                return
            for arg, arg_value in args.items():
                transform.args[str(arg)] = self._arg(arg_value)
            return
        self.fail(path, f"expected a transform name or {{name: {{arg: value}}}}, "
                        f"got {type_name(value)}")

    @staticmethod
    def _arg(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list | dict):
            return json.dumps(value, ensure_ascii=False, sort_keys=False)
        if value is None:
            return ""
        return str(value)

    def _target(self, value: Any, target: pb.Target) -> None:
        spec = self.section(value, "target", TARGET_KEYS, target)
        if "kind" in spec:
            target.kind = self.enum(spec["kind"], "target_kind", "target.kind")
        if "dsn" in spec:
            target.dsn_ref = self.text(spec["dsn"], "target.dsn")
        if "table" in spec:
            target.table = self.text(spec["table"], "target.table")

    def _export(self, value: Any, export: pb.ExportSpec) -> None:
        spec = self.section(value, "export", EXPORT_KEYS, export)
        if "directory" in spec:
            export.directory = self.text(spec["directory"], "export.directory")
        if "format" in spec:
            self._format(spec["format"], "export.format", export.format)
        if "prefix" in spec:
            export.file_prefix = self.text(spec["prefix"], "export.prefix")

    def _retention(self, value: Any, retention: pb.RetentionPolicy) -> None:
        spec = self.section(value, "retention", RETENTION_KEYS, retention)
        for key, item in spec.items():
            where = f"retention.{key}"
            if key == "on_success":
                retention.on_success = self.enum(item, "on_success", where)
            elif key == "changeset":
                # YAML reads a bare on/off as true/false.
                if isinstance(item, bool):
                    item = "on" if item else "off"
                retention.changeset = self.enum(item, "changeset", where)
            elif key in ("backup_dir", "failed_dir"):
                setattr(retention, key, self.text(item, where))
            elif key == "masked_fields":
                retention.masked_fields.extend(self.text_list(item, where))
            else:
                setattr(retention, key, self.integer(item, where))

    def _retry(self, value: Any, retry: pb.RetryPolicy) -> None:
        spec = self.section(value, "retry", RETRY_KEYS, retry)
        for key, item in spec.items():
            if key == "max_attempts":
                retry.max_attempts = self.integer(item, "retry.max_attempts")
            else:
                self.duration(item, f"retry.{key}", getattr(retry, key))

    def _threshold(self, value: Any, threshold: pb.ErrorThreshold) -> None:
        spec = self.section(value, "error_threshold", THRESHOLD_KEYS, threshold)
        if "max_errors" in spec:
            threshold.max_errors = self.integer(spec["max_errors"], "error_threshold.max_errors",
                                                 bits=64)
        if "max_error_percent" in spec:
            threshold.max_error_percent = self.number(spec["max_error_percent"],
                                                      "error_threshold.max_error_percent")
