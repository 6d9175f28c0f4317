"""Typed values of a profile's YAML: text, numbers, enums, durations, sections.

``YamlValueReader`` checks one value at a time and collects a
:class:`ferry.errors.Violation` for each wrong type or unknown enum value, so a
document's reader (``yaml_reader.ProfileReader``) reports every problem at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ferry.durations import DurationError, parse_duration_proto
from ferry.errors import Violation
from ferry.v1 import profile_pb2 as pb
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

# Enum of each YAML enum value and the prefix its value names carry.
ENUMS: dict[str, tuple[EnumTypeWrapper, str]] = {
    "operation": (pb.Operation, "OPERATION_"),
    "source_kind": (pb.SourceKind, "SOURCE_KIND_"),
    "selection": (pb.FileSelection, "FILE_SELECTION_"),
    "format_kind": (pb.FormatKind, "FORMAT_KIND_"),
    "compression": (pb.Compression, "COMPRESSION_"),
    "auth": (pb.AuthKind, "AUTH_KIND_"),
    "target_kind": (pb.TargetKind, "TARGET_KIND_"),
    "freshness": (pb.FreshnessMethod, "FRESHNESS_METHOD_"),
    "on_success": (pb.SuccessAction, "SUCCESS_ACTION_"),
    "changeset": (pb.ChangesetMode, "CHANGESET_MODE_"),
    "overlap": (pb.OverlapPolicy, "OVERLAP_POLICY_"),
    "on_shape_change": (pb.ShapeChangePolicy, "SHAPE_CHANGE_POLICY_"),
    "notification_event": (pb.NotificationEvent, "NOTIFICATION_EVENT_"),
    "notification_format": (pb.NotificationFormat, "NOTIFICATION_FORMAT_"),
}

def enum_names(kind: str) -> list[str]:
    """The YAML spellings of an enum, e.g. ["file", "http", "sql", "connector"]."""
    enum, prefix = ENUMS[kind]
    return [name[len(prefix):].lower() for name in enum.keys() if not name.endswith("UNSPECIFIED")]


def type_name(value: Any) -> str:
    """How a wrong value is named in a violation: "a mapping", "int 3", ..."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


class YamlValueReader:
    """Reads typed values of a YAML document; ``violations`` holds what was
    wrong with them, each under its path."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self.violations: list[Violation] = []

    def fail(self, path: str, description: str) -> None:
        self.violations.append(Violation(f"{self._prefix}{path}", description))

    # -- scalars -------------------------------------------------------------------

    def text(self, value: Any, path: str) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return value
        if isinstance(value, int | float):
            return str(value)
        if value is None:
            return ""
        self.fail(path, f"expected a string, got {type_name(value)}")
        return ""

    def integer(self, value: Any, path: str, bits: int = 32) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(path, f"expected a whole number, got {type_name(value)}")
            return 0
        if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            self.fail(path, f"{value} is out of range")
            return 0
        return value

    def number(self, value: Any, path: str) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        self.fail(path, f"expected a number, got {type_name(value)}")
        return 0.0

    def boolean(self, value: Any, path: str) -> bool:
        if isinstance(value, bool):
            return value
        self.fail(path, f"expected true or false, got {type_name(value)}")
        return False

    def enum(self, value: Any, kind: str, path: str) -> int:
        enum, prefix = ENUMS[kind]
        allowed = enum_names(kind)
        text = value.strip().lower() if isinstance(value, str) else None
        if text not in allowed:
            shown = f'"{value}"' if isinstance(value, str) else type_name(value)
            self.fail(path, f"unknown value {shown} (expected {', '.join(allowed)})")
            return 0
        return enum.Value(prefix + text.upper())

    def duration(self, value: Any, path: str, target: Any) -> None:
        try:
            target.CopyFrom(parse_duration_proto(value))
        except DurationError as exc:
            reason = f": {exc.reason}" if exc.reason else ""
            self.fail(path, f"expected a duration such as 30s, 10m, 2h or 1h30m, "
                            f"got {type_name(value)}{reason}")

    # -- containers ----------------------------------------------------------------

    def section(self, value: Any, path: str, known: tuple[str, ...],
                message: Any = None) -> dict[str, Any]:
        """A mapping with only known keys; unknown keys are violations. A given
        mapping, even empty, marks ``message`` as present."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {type_name(value)}")
            return {}
        if message is not None:
            message.SetInParent()
        result: dict[str, Any] = {}
        for key, item in value.items():
            key_text = str(key)
            where = f"{path}.{key_text}" if path else key_text
            if key_text not in known:
                self.fail(where, f"unknown key (expected one of: {', '.join(known)})")
            else:
                result[key_text] = item
        return result

    def section_list(self, value: Any, path: str, known: tuple[str, ...], what: str
                     ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each mapping of a list of ``what`` with its path (``path[i]``), its
        unknown keys reported as in ``section``; anything but a list is a violation."""
        if not isinstance(value, list):
            self.fail(path, f"expected a list of {what}, got {type_name(value)}")
            return
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            yield where, self.section(item, where, known)

    def text_list(self, value: Any, path: str) -> list[str]:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return [str(value)]
        if not isinstance(value, list):
            self.fail(path, f"expected a list of strings, got {type_name(value)}")
            return []
        return [self.text(item, f"{path}[{i}]") for i, item in enumerate(value)]

    def text_map(self, value: Any, path: str) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {type_name(value)}")
            return {}
        return {self.text(k, path): self.text(v, f"{path}.{k}") for k, v in value.items()}

    # -- the profile ---------------------------------------------------------------
