"""Records tasks: reading back what runs wrote in a profile's target
(LIST_RUN_RECORDS, GET_RECORD, DIFF_RUNS), for ``ferry runs records``,
``ferry records get`` and ``ferry runs diff``.

Each task calls ``ferry_domain.changesets`` (``reads.list_run_records``,
``reads.get_record``, ``diff.diff_runs``) with this runner's target URL and
answers with the ``answer`` fields of a RunnerTask. Values and keys are
masked with ``ferry_domain.masking.profile_masker`` under the runner's mask
key, as rejected rows are, before they leave the runner: the entity's
personal fields and ``retention.masked_fields`` by their kind, e-mail
addresses and phone numbers in any other text. What the caller can
fix (the run has no changeset, a bad page token or key) is a
``RecordTaskRefused`` whose message the caller sees.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from ferry.v1 import profile_pb2, record_pb2, runner_task_pb2
from ferry_domain.changesets import (
    Action,
    FieldChange,
    RecordChange,
    RunDiff,
    StoredRecord,
    diff,
    reads,
)
from ferry_domain.changesets.errors import ChangesetNotFoundError
from ferry_domain.engine.entities import EntitySchema, get_entity
from ferry_domain.engine.mapping import record_key_fields
from ferry_domain.masking import Masker, column_words, profile_masker
from google.protobuf import struct_pb2

Kind = runner_task_pb2.RunnerTaskKind
KINDS = frozenset({Kind.RUNNER_TASK_KIND_LIST_RUN_RECORDS, Kind.RUNNER_TASK_KIND_GET_RECORD,
                   Kind.RUNNER_TASK_KIND_DIFF_RUNS})
# Integers beyond this lose digits as JSON numbers (doubles): sent as text.
MAX_EXACT_INT = 2**53


class RecordTaskRefused(Exception):
    """The task cannot be answered for a reason the caller can fix or needs
    to know (e.g. the run has no changeset); the message says which."""


def to_value(value: Any) -> struct_pb2.Value:
    """A target value as a google.protobuf.Value: numbers stay numbers (exact
    decimals and very large integers become text), dates ISO 8601 text."""
    out = struct_pb2.Value()
    if value is None:
        out.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int) and abs(value) <= MAX_EXACT_INT:
        out.number_value = value
    elif isinstance(value, float) and math.isfinite(value):
        out.number_value = value
    elif isinstance(value, Decimal) and value.is_finite():
        out.string_value = format(value, "f")
    elif isinstance(value, datetime | date | time):
        out.string_value = value.isoformat()
    elif isinstance(value, bytes | bytearray | memoryview):
        out.string_value = bytes(value).hex()
    elif isinstance(value, Mapping):
        for name, item in value.items():
            out.struct_value.fields[str(name)].CopyFrom(to_value(item))
    elif isinstance(value, list | tuple):
        out.list_value.values.extend(to_value(item) for item in value)
    else:
        out.string_value = str(value)
    return out


def personal_fields(profile: profile_pb2.Profile, entity: EntitySchema) -> frozenset[str]:
    """The target fields masked whatever their values: the entity's personal
    fields and the profile's ``retention.masked_fields``."""
    masked = {"".join(column_words(f)) for f in profile.retention.masked_fields}
    return frozenset({*entity.personal, *(f.name for f in entity.fields
                                          if "".join(column_words(f.name)) in masked)})


class _Shown:
    """Masks what a task answers under the runner's key (None: shows all).

    Target fields have known meanings: the personal ones are masked by their
    kind (e-mail, phone, name, address), every other text only where it holds
    an e-mail address or a phone number (a product's ``name`` stays readable)."""

    def __init__(self, masker: Masker | None, key: Sequence[str],
                 personal: frozenset[str]) -> None:
        self._masker = masker
        self._key = tuple(key)
        self._personal = personal

    def masked(self, field: str, value: Any) -> Any:
        if self._masker is None:
            return value
        if field in self._personal:
            return self._masker.mask_value(field, value)
        if isinstance(value, str):
            return self._masker.mask_text(value)
        if isinstance(value, list | tuple):
            return [self.masked(field, item) for item in value]
        return value

    def value(self, field: str, value: Any) -> struct_pb2.Value:
        return to_value(self.masked(field, value))

    def key(self, parts: Sequence[str]) -> list[str]:
        names = self._key if len(self._key) == len(parts) else ("",) * len(parts)
        return [str(self.masked(n, p)) for n, p in zip(names, parts, strict=True)]

    def field_change(self, change: FieldChange) -> record_pb2.FieldChange:
        return record_pb2.FieldChange(field=change.field,
                                      before=self.value(change.field, change.before),
                                      after=self.value(change.field, change.after))

    def record_change(self, change: RecordChange) -> record_pb2.RecordChange:
        return record_pb2.RecordChange(
            run_id=change.run_id, key=self.key(change.key), action=int(change.action),
            fields=[self.field_change(f) for f in change.fields])

    def stored(self, record: StoredRecord) -> record_pb2.StoredRecord:
        values = record.values or {}
        return record_pb2.StoredRecord(
            key=self.key(record.key), found=record.values is not None,
            values=[record_pb2.FieldValue(field=name, value=self.value(name, value))
                    for name, value in values.items()],
            last_run_id=record.last_run_id,
            history=[self.record_change(c) for c in record.history])

    def diff(self, found: RunDiff) -> record_pb2.RunDiff:
        return record_pb2.RunDiff(
            run_a=found.run_a, run_b=found.run_b,
            created=[record_pb2.RecordKey(parts=self.key(k)) for k in found.created],
            created_count=found.created_count,
            deleted=[record_pb2.RecordKey(parts=self.key(k)) for k in found.deleted],
            deleted_count=found.deleted_count,
            fields=[record_pb2.FieldDiff(
                field=f.field, count=f.count,
                changes=[record_pb2.KeyValueChange(key=self.key(key),
                                                   value_a=self.value(f.field, a),
                                                   value_b=self.value(f.field, b))
                         for key, a, b in f.changes]) for f in found.fields],
            runs=list(found.runs))


class RecordTasks:
    """Answers records tasks against ``target_url`` (the runner's default
    target), masking under ``mask_key`` (None: values are shown as stored)."""

    def __init__(self, target_url: str, mask_key: bytes | None) -> None:
        self._target_url = target_url
        self._mask_key = mask_key

    def answer(self, task: runner_task_pb2.RunnerTask, profile: profile_pb2.Profile
               ) -> runner_task_pb2.RunnerTask:
        """The task's answer; RecordTaskRefused for what the caller must know."""
        try:
            entity = get_entity(profile.entity_type)
        except KeyError:
            raise RecordTaskRefused(
                f'profile "{profile.name}" has an unknown entity "{profile.entity_type}"'
            ) from None
        shown = _Shown(profile_masker(self._mask_key, profile) if self._mask_key else None,
                       record_key_fields(profile.mapping, entity),
                       personal_fields(profile, entity))
        try:
            return self._answers[task.kind](self, task, profile, shown)
        except ChangesetNotFoundError as exc:
            raise RecordTaskRefused(str(exc)) from None
        except ValueError as exc:  # a bad page token, a key of the wrong length
            raise RecordTaskRefused(str(exc)) from None

    def _list(self, task, profile, shown: _Shown) -> runner_task_pb2.RunnerTask:
        query = task.run_records_query
        page = reads.list_run_records(
            profile, default_target_url=self._target_url, run_id=query.run_id,
            actions=[Action(a) for a in query.actions], page_size=query.page_size,
            page_token=query.page_token)
        return runner_task_pb2.RunnerTask(run_records=record_pb2.RunRecordsPage(
            records=[shown.record_change(c) for c in page.records],
            next_page_token=page.next_page_token))

    def _get(self, task, profile, shown: _Shown) -> runner_task_pb2.RunnerTask:
        query = task.record_query
        options = {"history_limit": query.history_limit} if query.history_limit else {}
        record = reads.get_record(profile, default_target_url=self._target_url,
                                  key=list(query.key), **options)
        return runner_task_pb2.RunnerTask(record=shown.stored(record))

    def _diff(self, task, profile, shown: _Shown) -> runner_task_pb2.RunnerTask:
        query = task.run_diff_query
        options = {"key_limit": query.key_limit} if query.key_limit else {}
        found = diff.diff_runs(profile, default_target_url=self._target_url,
                               run_a=query.run_a, run_b=query.run_b, **options)
        return runner_task_pb2.RunnerTask(run_diff=shown.diff(found))

    _answers: dict[int, Callable[..., runner_task_pb2.RunnerTask]] = {
        Kind.RUNNER_TASK_KIND_LIST_RUN_RECORDS: _list,
        Kind.RUNNER_TASK_KIND_GET_RECORD: _get,
        Kind.RUNNER_TASK_KIND_DIFF_RUNS: _diff,
    }
