import datetime

from ferry.v1 import record_pb2 as _record_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunnerTaskKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUNNER_TASK_KIND_UNSPECIFIED: _ClassVar[RunnerTaskKind]
    RUNNER_TASK_KIND_VALIDATE_PROFILE: _ClassVar[RunnerTaskKind]
    RUNNER_TASK_KIND_LIST_RUN_RECORDS: _ClassVar[RunnerTaskKind]
    RUNNER_TASK_KIND_GET_RECORD: _ClassVar[RunnerTaskKind]
    RUNNER_TASK_KIND_DIFF_RUNS: _ClassVar[RunnerTaskKind]

class RunnerTaskState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUNNER_TASK_STATE_UNSPECIFIED: _ClassVar[RunnerTaskState]
    RUNNER_TASK_STATE_QUEUED: _ClassVar[RunnerTaskState]
    RUNNER_TASK_STATE_RUNNING: _ClassVar[RunnerTaskState]
    RUNNER_TASK_STATE_SUCCEEDED: _ClassVar[RunnerTaskState]
    RUNNER_TASK_STATE_FAILED: _ClassVar[RunnerTaskState]

class RunnerTaskCheckOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUNNER_TASK_CHECK_OUTCOME_UNSPECIFIED: _ClassVar[RunnerTaskCheckOutcome]
    RUNNER_TASK_CHECK_OUTCOME_PASSED: _ClassVar[RunnerTaskCheckOutcome]
    RUNNER_TASK_CHECK_OUTCOME_FAILED: _ClassVar[RunnerTaskCheckOutcome]
    RUNNER_TASK_CHECK_OUTCOME_NOTE: _ClassVar[RunnerTaskCheckOutcome]
RUNNER_TASK_KIND_UNSPECIFIED: RunnerTaskKind
RUNNER_TASK_KIND_VALIDATE_PROFILE: RunnerTaskKind
RUNNER_TASK_KIND_LIST_RUN_RECORDS: RunnerTaskKind
RUNNER_TASK_KIND_GET_RECORD: RunnerTaskKind
RUNNER_TASK_KIND_DIFF_RUNS: RunnerTaskKind
RUNNER_TASK_STATE_UNSPECIFIED: RunnerTaskState
RUNNER_TASK_STATE_QUEUED: RunnerTaskState
RUNNER_TASK_STATE_RUNNING: RunnerTaskState
RUNNER_TASK_STATE_SUCCEEDED: RunnerTaskState
RUNNER_TASK_STATE_FAILED: RunnerTaskState
RUNNER_TASK_CHECK_OUTCOME_UNSPECIFIED: RunnerTaskCheckOutcome
RUNNER_TASK_CHECK_OUTCOME_PASSED: RunnerTaskCheckOutcome
RUNNER_TASK_CHECK_OUTCOME_FAILED: RunnerTaskCheckOutcome
RUNNER_TASK_CHECK_OUTCOME_NOTE: RunnerTaskCheckOutcome

class RunnerTaskCheck(_message.Message):
    __slots__ = ("check", "outcome", "message")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    check: str
    outcome: RunnerTaskCheckOutcome
    message: str
    def __init__(self, check: _Optional[str] = ..., outcome: _Optional[_Union[RunnerTaskCheckOutcome, str]] = ..., message: _Optional[str] = ...) -> None: ...

class RunnerTask(_message.Message):
    __slots__ = ("id", "kind", "state", "profile", "runner_id", "checks", "error_message", "create_time", "update_time", "expire_time", "end_time", "source_override", "run_records_query", "record_query", "run_diff_query", "run_records", "record", "run_diff", "answered")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    RUN_RECORDS_QUERY_FIELD_NUMBER: _ClassVar[int]
    RECORD_QUERY_FIELD_NUMBER: _ClassVar[int]
    RUN_DIFF_QUERY_FIELD_NUMBER: _ClassVar[int]
    RUN_RECORDS_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    RUN_DIFF_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: RunnerTaskKind
    state: RunnerTaskState
    profile: str
    runner_id: str
    checks: _containers.RepeatedCompositeFieldContainer[RunnerTaskCheck]
    error_message: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    source_override: str
    run_records_query: _record_pb2.RunRecordsQuery
    record_query: _record_pb2.RecordQuery
    run_diff_query: _record_pb2.RunDiffQuery
    run_records: _record_pb2.RunRecordsPage
    record: _record_pb2.StoredRecord
    run_diff: _record_pb2.RunDiff
    answered: bool
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[_Union[RunnerTaskKind, str]] = ..., state: _Optional[_Union[RunnerTaskState, str]] = ..., profile: _Optional[str] = ..., runner_id: _Optional[str] = ..., checks: _Optional[_Iterable[_Union[RunnerTaskCheck, _Mapping]]] = ..., error_message: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source_override: _Optional[str] = ..., run_records_query: _Optional[_Union[_record_pb2.RunRecordsQuery, _Mapping]] = ..., record_query: _Optional[_Union[_record_pb2.RecordQuery, _Mapping]] = ..., run_diff_query: _Optional[_Union[_record_pb2.RunDiffQuery, _Mapping]] = ..., run_records: _Optional[_Union[_record_pb2.RunRecordsPage, _Mapping]] = ..., record: _Optional[_Union[_record_pb2.StoredRecord, _Mapping]] = ..., run_diff: _Optional[_Union[_record_pb2.RunDiff, _Mapping]] = ..., answered: _Optional[bool] = ...) -> None: ...

class RunnerTaskRequest(_message.Message):
    __slots__ = ("schema_version", "task_id", "kind", "profile", "publish_time")
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    schema_version: int
    task_id: str
    kind: RunnerTaskKind
    profile: str
    publish_time: _timestamp_pb2.Timestamp
    def __init__(self, schema_version: _Optional[int] = ..., task_id: _Optional[str] = ..., kind: _Optional[_Union[RunnerTaskKind, str]] = ..., profile: _Optional[str] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
