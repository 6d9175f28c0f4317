"""Lines people read for what runs wrote: a run's records, one stored record
with the runs that touched it, and how two runs differ."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ferry.v1 import record_pb2
from google.protobuf import json_format, struct_pb2

from ferry_cli.output import short_enum

ACTION_WIDTH = len("deactivated")


def value_text(value: struct_pb2.Value) -> str:
    """A value as people write it: text bare ("" when empty), whole numbers
    without ".0", null, true/false, lists and objects as JSON."""
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return "null"
    if kind == "string_value":
        return value.string_value if value.string_value else '""'
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "number_value":
        number = value.number_value
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return json.dumps(json_format.MessageToDict(value), ensure_ascii=False)


def key_text(parts: Sequence[str]) -> str:
    """A record's key: its parts joined by ", "."""
    return ", ".join(parts)


def action_text(action: int) -> str:
    return short_enum(record_pb2.RecordAction.Name(action), "RECORD_ACTION_").lower()


def change_text(change: record_pb2.FieldChange) -> str:
    return f"{change.field}: {value_text(change.before)} -> {value_text(change.after)}"


def record_line(record: record_pb2.RecordChange, key_width: int = 0) -> str:
    """``updated      WC-1003  price: 19.90 -> 21.00, stock: 3 -> 4``: the action,
    the key (padded to ``key_width``), and for an update each changed field
    before -> after."""
    line = f"{action_text(record.action):<{ACTION_WIDTH}}  {key_text(record.key)}"
    if record.action == record_pb2.RECORD_ACTION_UPDATED and record.fields:
        line = f"{line:<{ACTION_WIDTH + 2 + key_width}}  " + ", ".join(
            change_text(f) for f in record.fields)
    return line


def record_lines(records: Sequence[record_pb2.RecordChange]) -> list[str]:
    """One line per record, the changes of updates lined up."""
    width = max((len(key_text(r.key)) for r in records), default=0)
    return [record_line(r, width) for r in records]


def records_summary(run_id: str, shown: int, more: bool, actions: Sequence[str]) -> str:
    which = f" ({', '.join(actions)})" if actions else ""
    if not shown:
        return f"run {run_id} wrote no records{which}"
    tail = "; more: raise --limit (0 lists all)" if more else ""
    return f"run {run_id}: {shown} record(s){which}{tail}"


def stored_record_lines(profile: str, record: record_pb2.StoredRecord) -> list[str]:
    """The row now (``field: value`` lines; empty fields counted, not shown),
    then the runs that touched it, newest first: run id, action, changed
    fields."""
    lines = [f"profile: {profile}", f"key:     {key_text(record.key)}"]
    if record.found:
        if record.last_run_id:
            lines.append(f"written by run {record.last_run_id}")
        shown = [v for v in record.values if value_text(v.value) != "null"]
        width = max((len(v.field) for v in shown), default=0) + 1
        lines += [f"  {v.field + ':':<{width}} {value_text(v.value)}" for v in shown]
        if len(shown) < len(record.values):
            lines.append(f"  ({len(record.values) - len(shown)} empty field(s) not shown; "
                         "-o json has them)")
    else:
        lines.append("no row with this key in the target (never imported, or deleted)")
    lines.append("")
    if not record.history:
        lines.append("no run recorded a change of it")
        return lines
    lines.append("runs that touched it (newest first):")
    for change in record.history:
        line = f"  {change.run_id}  {action_text(change.action):<{ACTION_WIDTH}}"
        if change.action == record_pb2.RECORD_ACTION_UPDATED and change.fields:
            line += "  " + ", ".join(change_text(f) for f in change.fields)
        lines.append(line.rstrip())
    return lines


def _keys_line(what: str, keys: Sequence[record_pb2.RecordKey], count: int) -> str:
    if not count:
        return f"{what}: none"
    shown = "; ".join(key_text(k.parts) for k in keys)
    more = f" and {count - len(keys)} more" if count > len(keys) else ""
    return f"{what}: {count} key(s): {shown}{more}"


def diff_lines(diff: record_pb2.RunDiff) -> list[str]:
    """Keys created and deleted, then per field the keys whose value
    changed, value after run_a -> value after run_b."""
    between = f" (changes of run(s) {', '.join(diff.runs)})" if diff.runs else ""
    lines = [f"from run {diff.run_a} to run {diff.run_b}{between}",
             _keys_line("created", diff.created, diff.created_count),
             _keys_line("deleted", diff.deleted, diff.deleted_count)]
    if not diff.fields:
        lines.append("no field changed")
    for field in diff.fields:
        lines.append(f"{field.field}: {field.count} key(s) changed")
        width = max((len(key_text(c.key)) for c in field.changes), default=0)
        lines += [f"  {key_text(c.key):<{width}}  {value_text(c.value_a)} -> "
                  f"{value_text(c.value_b)}" for c in field.changes]
        if field.count > len(field.changes):
            lines.append(f"  and {field.count - len(field.changes)} more")
    return lines
