import datetime

from ferry.v1 import profile_pb2 as _profile_pb2
from ferry.v1 import source_shape_pb2 as _source_shape_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATUS_UNSPECIFIED: _ClassVar[RunStatus]
    RUN_STATUS_QUEUED: _ClassVar[RunStatus]
    RUN_STATUS_RUNNING: _ClassVar[RunStatus]
    RUN_STATUS_COMPLETED: _ClassVar[RunStatus]
    RUN_STATUS_WARNING: _ClassVar[RunStatus]
    RUN_STATUS_FAILED: _ClassVar[RunStatus]
    RUN_STATUS_CANCELLED: _ClassVar[RunStatus]
    RUN_STATUS_UNCHANGED: _ClassVar[RunStatus]

class RunTrigger(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_TRIGGER_UNSPECIFIED: _ClassVar[RunTrigger]
    RUN_TRIGGER_SCHEDULE: _ClassVar[RunTrigger]
    RUN_TRIGGER_MANUAL: _ClassVar[RunTrigger]
    RUN_TRIGGER_RETRY: _ClassVar[RunTrigger]
    RUN_TRIGGER_API: _ClassVar[RunTrigger]
    RUN_TRIGGER_FOLLOW_UP: _ClassVar[RunTrigger]

class ErrorClass(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_CLASS_UNSPECIFIED: _ClassVar[ErrorClass]
    ERROR_CLASS_TRANSIENT: _ClassVar[ErrorClass]
    ERROR_CLASS_PERMANENT: _ClassVar[ErrorClass]
    ERROR_CLASS_CREDENTIALS: _ClassVar[ErrorClass]
    ERROR_CLASS_SOURCE_SHAPE: _ClassVar[ErrorClass]
    ERROR_CLASS_MAPPING: _ClassVar[ErrorClass]
    ERROR_CLASS_ATTEMPTS_EXHAUSTED: _ClassVar[ErrorClass]

class FreshnessVerdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FRESHNESS_VERDICT_UNSPECIFIED: _ClassVar[FreshnessVerdict]
    FRESHNESS_VERDICT_CHANGED: _ClassVar[FreshnessVerdict]
    FRESHNESS_VERDICT_UNCHANGED: _ClassVar[FreshnessVerdict]
    FRESHNESS_VERDICT_FIRST_SEEN: _ClassVar[FreshnessVerdict]
    FRESHNESS_VERDICT_BYPASSED: _ClassVar[FreshnessVerdict]

class FreshnessReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FRESHNESS_REASON_UNSPECIFIED: _ClassVar[FreshnessReason]
    FRESHNESS_REASON_SOURCE_CHANGED: _ClassVar[FreshnessReason]
    FRESHNESS_REASON_SOURCE_UNCHANGED: _ClassVar[FreshnessReason]
    FRESHNESS_REASON_PROFILE_CHANGED: _ClassVar[FreshnessReason]
    FRESHNESS_REASON_NO_NEW_INPUT: _ClassVar[FreshnessReason]
    FRESHNESS_REASON_SAME_CONTENT: _ClassVar[FreshnessReason]
    FRESHNESS_REASON_BYPASSED: _ClassVar[FreshnessReason]

class RetentionActionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETENTION_ACTION_KIND_UNSPECIFIED: _ClassVar[RetentionActionKind]
    RETENTION_ACTION_KIND_MOVED_TO_BACKUP: _ClassVar[RetentionActionKind]
    RETENTION_ACTION_KIND_DELETED: _ClassVar[RetentionActionKind]
    RETENTION_ACTION_KIND_MOVED_TO_FAILED: _ClassVar[RetentionActionKind]
    RETENTION_ACTION_KIND_SAMPLE_SAVED: _ClassVar[RetentionActionKind]
    RETENTION_ACTION_KIND_PURGED: _ClassVar[RetentionActionKind]

class RunEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_EVENT_TYPE_UNSPECIFIED: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_STATUS: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_WARNING: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_RETRY: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_PROGRESS: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_LOG: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_LEASE_EXPIRED: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_RETENTION: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_NOTIFICATION: _ClassVar[RunEventType]
RUN_STATUS_UNSPECIFIED: RunStatus
RUN_STATUS_QUEUED: RunStatus
RUN_STATUS_RUNNING: RunStatus
RUN_STATUS_COMPLETED: RunStatus
RUN_STATUS_WARNING: RunStatus
RUN_STATUS_FAILED: RunStatus
RUN_STATUS_CANCELLED: RunStatus
RUN_STATUS_UNCHANGED: RunStatus
RUN_TRIGGER_UNSPECIFIED: RunTrigger
RUN_TRIGGER_SCHEDULE: RunTrigger
RUN_TRIGGER_MANUAL: RunTrigger
RUN_TRIGGER_RETRY: RunTrigger
RUN_TRIGGER_API: RunTrigger
RUN_TRIGGER_FOLLOW_UP: RunTrigger
ERROR_CLASS_UNSPECIFIED: ErrorClass
ERROR_CLASS_TRANSIENT: ErrorClass
ERROR_CLASS_PERMANENT: ErrorClass
ERROR_CLASS_CREDENTIALS: ErrorClass
ERROR_CLASS_SOURCE_SHAPE: ErrorClass
ERROR_CLASS_MAPPING: ErrorClass
ERROR_CLASS_ATTEMPTS_EXHAUSTED: ErrorClass
FRESHNESS_VERDICT_UNSPECIFIED: FreshnessVerdict
FRESHNESS_VERDICT_CHANGED: FreshnessVerdict
FRESHNESS_VERDICT_UNCHANGED: FreshnessVerdict
FRESHNESS_VERDICT_FIRST_SEEN: FreshnessVerdict
FRESHNESS_VERDICT_BYPASSED: FreshnessVerdict
FRESHNESS_REASON_UNSPECIFIED: FreshnessReason
FRESHNESS_REASON_SOURCE_CHANGED: FreshnessReason
FRESHNESS_REASON_SOURCE_UNCHANGED: FreshnessReason
FRESHNESS_REASON_PROFILE_CHANGED: FreshnessReason
FRESHNESS_REASON_NO_NEW_INPUT: FreshnessReason
FRESHNESS_REASON_SAME_CONTENT: FreshnessReason
FRESHNESS_REASON_BYPASSED: FreshnessReason
RETENTION_ACTION_KIND_UNSPECIFIED: RetentionActionKind
RETENTION_ACTION_KIND_MOVED_TO_BACKUP: RetentionActionKind
RETENTION_ACTION_KIND_DELETED: RetentionActionKind
RETENTION_ACTION_KIND_MOVED_TO_FAILED: RetentionActionKind
RETENTION_ACTION_KIND_SAMPLE_SAVED: RetentionActionKind
RETENTION_ACTION_KIND_PURGED: RetentionActionKind
RUN_EVENT_TYPE_UNSPECIFIED: RunEventType
RUN_EVENT_TYPE_STATUS: RunEventType
RUN_EVENT_TYPE_WARNING: RunEventType
RUN_EVENT_TYPE_RETRY: RunEventType
RUN_EVENT_TYPE_PROGRESS: RunEventType
RUN_EVENT_TYPE_LOG: RunEventType
RUN_EVENT_TYPE_LEASE_EXPIRED: RunEventType
RUN_EVENT_TYPE_RETENTION: RunEventType
RUN_EVENT_TYPE_NOTIFICATION: RunEventType

class RunCounts(_message.Message):
    __slots__ = ("rows_read", "created", "updated", "unchanged", "skipped", "errors", "written", "filtered", "deleted")
    ROWS_READ_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    WRITTEN_FIELD_NUMBER: _ClassVar[int]
    FILTERED_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    rows_read: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    errors: int
    written: int
    filtered: int
    deleted: int
    def __init__(self, rows_read: _Optional[int] = ..., created: _Optional[int] = ..., updated: _Optional[int] = ..., unchanged: _Optional[int] = ..., skipped: _Optional[int] = ..., errors: _Optional[int] = ..., written: _Optional[int] = ..., filtered: _Optional[int] = ..., deleted: _Optional[int] = ...) -> None: ...

class RowError(_message.Message):
    __slots__ = ("row", "field", "message")
    ROW_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    row: int
    field: str
    message: str
    def __init__(self, row: _Optional[int] = ..., field: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class FreshnessEvidence(_message.Message):
    __slots__ = ("method", "previous_token", "current_token", "verdict", "reason", "reason_detail", "profile_digest")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CURRENT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REASON_DETAIL_FIELD_NUMBER: _ClassVar[int]
    PROFILE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    method: _profile_pb2.FreshnessMethod
    previous_token: str
    current_token: str
    verdict: FreshnessVerdict
    reason: FreshnessReason
    reason_detail: str
    profile_digest: str
    def __init__(self, method: _Optional[_Union[_profile_pb2.FreshnessMethod, str]] = ..., previous_token: _Optional[str] = ..., current_token: _Optional[str] = ..., verdict: _Optional[_Union[FreshnessVerdict, str]] = ..., reason: _Optional[_Union[FreshnessReason, str]] = ..., reason_detail: _Optional[str] = ..., profile_digest: _Optional[str] = ...) -> None: ...

class RetentionAction(_message.Message):
    __slots__ = ("kind", "path", "detail", "action_time")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ACTION_TIME_FIELD_NUMBER: _ClassVar[int]
    kind: RetentionActionKind
    path: str
    detail: str
    action_time: _timestamp_pb2.Timestamp
    def __init__(self, kind: _Optional[_Union[RetentionActionKind, str]] = ..., path: _Optional[str] = ..., detail: _Optional[str] = ..., action_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Run(_message.Message):
    __slots__ = ("id", "profile", "schedule_id", "fire_time", "status", "entity_type", "operation", "trigger", "dry_run", "force", "attempt", "max_attempts", "counts", "queue_time", "start_time", "end_time", "first_error", "first_skip_reason", "warnings", "freshness", "retention_actions", "sample_location", "rejected_rows_location", "runner_id", "error_class", "error_message", "hint", "rows_total", "request_id", "retry_of", "cancel_requested", "update_time", "profile_revision", "source_override", "source_shape", "inputs", "outputs", "rollback_of", "rollback_force")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    FIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    FIRST_ERROR_FIELD_NUMBER: _ClassVar[int]
    FIRST_SKIP_REASON_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    RETENTION_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    REJECTED_ROWS_LOCATION_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_CLASS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    HINT_FIELD_NUMBER: _ClassVar[int]
    ROWS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RETRY_OF_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PROFILE_REVISION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_SHAPE_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    ROLLBACK_OF_FIELD_NUMBER: _ClassVar[int]
    ROLLBACK_FORCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    profile: str
    schedule_id: str
    fire_time: _timestamp_pb2.Timestamp
    status: RunStatus
    entity_type: str
    operation: _profile_pb2.Operation
    trigger: RunTrigger
    dry_run: bool
    force: bool
    attempt: int
    max_attempts: int
    counts: RunCounts
    queue_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    first_error: RowError
    first_skip_reason: str
    warnings: _containers.RepeatedScalarFieldContainer[str]
    freshness: FreshnessEvidence
    retention_actions: _containers.RepeatedCompositeFieldContainer[RetentionAction]
    sample_location: str
    rejected_rows_location: str
    runner_id: str
    error_class: ErrorClass
    error_message: str
    hint: str
    rows_total: int
    request_id: str
    retry_of: str
    cancel_requested: bool
    update_time: _timestamp_pb2.Timestamp
    profile_revision: int
    source_override: str
    source_shape: _source_shape_pb2.SourceShape
    inputs: _containers.RepeatedCompositeFieldContainer[RunInput]
    outputs: _containers.RepeatedCompositeFieldContainer[RunOutput]
    rollback_of: str
    rollback_force: bool
    def __init__(self, id: _Optional[str] = ..., profile: _Optional[str] = ..., schedule_id: _Optional[str] = ..., fire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[RunStatus, str]] = ..., entity_type: _Optional[str] = ..., operation: _Optional[_Union[_profile_pb2.Operation, str]] = ..., trigger: _Optional[_Union[RunTrigger, str]] = ..., dry_run: _Optional[bool] = ..., force: _Optional[bool] = ..., attempt: _Optional[int] = ..., max_attempts: _Optional[int] = ..., counts: _Optional[_Union[RunCounts, _Mapping]] = ..., queue_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., first_error: _Optional[_Union[RowError, _Mapping]] = ..., first_skip_reason: _Optional[str] = ..., warnings: _Optional[_Iterable[str]] = ..., freshness: _Optional[_Union[FreshnessEvidence, _Mapping]] = ..., retention_actions: _Optional[_Iterable[_Union[RetentionAction, _Mapping]]] = ..., sample_location: _Optional[str] = ..., rejected_rows_location: _Optional[str] = ..., runner_id: _Optional[str] = ..., error_class: _Optional[_Union[ErrorClass, str]] = ..., error_message: _Optional[str] = ..., hint: _Optional[str] = ..., rows_total: _Optional[int] = ..., request_id: _Optional[str] = ..., retry_of: _Optional[str] = ..., cancel_requested: _Optional[bool] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., profile_revision: _Optional[int] = ..., source_override: _Optional[str] = ..., source_shape: _Optional[_Union[_source_shape_pb2.SourceShape, _Mapping]] = ..., inputs: _Optional[_Iterable[_Union[RunInput, _Mapping]]] = ..., outputs: _Optional[_Iterable[_Union[RunOutput, _Mapping]]] = ..., rollback_of: _Optional[str] = ..., rollback_force: _Optional[bool] = ...) -> None: ...

class RunInput(_message.Message):
    __slots__ = ("path", "size_bytes", "modify_time", "checksum", "etag", "last_modified")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MODIFY_TIME_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_FIELD_NUMBER: _ClassVar[int]
    path: str
    size_bytes: int
    modify_time: _timestamp_pb2.Timestamp
    checksum: str
    etag: str
    last_modified: str
    def __init__(self, path: _Optional[str] = ..., size_bytes: _Optional[int] = ..., modify_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., checksum: _Optional[str] = ..., etag: _Optional[str] = ..., last_modified: _Optional[str] = ...) -> None: ...

class RunOutput(_message.Message):
    __slots__ = ("path", "row_count")
    PATH_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    path: str
    row_count: int
    def __init__(self, path: _Optional[str] = ..., row_count: _Optional[int] = ...) -> None: ...

class RunSample(_message.Message):
    __slots__ = ("run_id", "columns", "rows", "omitted_rows", "note")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    OMITTED_ROWS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    columns: _containers.RepeatedScalarFieldContainer[str]
    rows: _containers.RepeatedCompositeFieldContainer[RunSampleRow]
    omitted_rows: int
    note: str
    def __init__(self, run_id: _Optional[str] = ..., columns: _Optional[_Iterable[str]] = ..., rows: _Optional[_Iterable[_Union[RunSampleRow, _Mapping]]] = ..., omitted_rows: _Optional[int] = ..., note: _Optional[str] = ...) -> None: ...

class RunSampleRow(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class RunEvent(_message.Message):
    __slots__ = ("run_id", "sequence", "event_time", "type", "status", "attempt", "message", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    sequence: int
    event_time: _timestamp_pb2.Timestamp
    type: RunEventType
    status: RunStatus
    attempt: int
    message: str
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, run_id: _Optional[str] = ..., sequence: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., type: _Optional[_Union[RunEventType, str]] = ..., status: _Optional[_Union[RunStatus, str]] = ..., attempt: _Optional[int] = ..., message: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RunLifecycleEvent(_message.Message):
    __slots__ = ("schema_version", "event_id", "routing_key", "event_time", "run", "sequence")
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ROUTING_KEY_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    schema_version: int
    event_id: str
    routing_key: str
    event_time: _timestamp_pb2.Timestamp
    run: Run
    sequence: int
    def __init__(self, schema_version: _Optional[int] = ..., event_id: _Optional[str] = ..., routing_key: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., run: _Optional[_Union[Run, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...
