import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Operation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPERATION_UNSPECIFIED: _ClassVar[Operation]
    OPERATION_IMPORT: _ClassVar[Operation]
    OPERATION_EXPORT: _ClassVar[Operation]
    OPERATION_ROLLBACK: _ClassVar[Operation]

class OverlapPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OVERLAP_POLICY_UNSPECIFIED: _ClassVar[OverlapPolicy]
    OVERLAP_POLICY_QUEUE: _ClassVar[OverlapPolicy]
    OVERLAP_POLICY_SKIP: _ClassVar[OverlapPolicy]

class NotificationEvent(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_EVENT_UNSPECIFIED: _ClassVar[NotificationEvent]
    NOTIFICATION_EVENT_FAILED: _ClassVar[NotificationEvent]
    NOTIFICATION_EVENT_RECOVERED: _ClassVar[NotificationEvent]
    NOTIFICATION_EVENT_STALE: _ClassVar[NotificationEvent]
    NOTIFICATION_EVENT_AUTO_PAUSED: _ClassVar[NotificationEvent]

class NotificationFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_FORMAT_UNSPECIFIED: _ClassVar[NotificationFormat]
    NOTIFICATION_FORMAT_JSON: _ClassVar[NotificationFormat]
    NOTIFICATION_FORMAT_SLACK: _ClassVar[NotificationFormat]

class ProfileEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROFILE_EVENT_TYPE_UNSPECIFIED: _ClassVar[ProfileEventType]
    PROFILE_EVENT_TYPE_STALE: _ClassVar[ProfileEventType]
    PROFILE_EVENT_TYPE_FRESH: _ClassVar[ProfileEventType]
    PROFILE_EVENT_TYPE_AUTO_PAUSED: _ClassVar[ProfileEventType]
    PROFILE_EVENT_TYPE_NOTIFICATION: _ClassVar[ProfileEventType]

class ShapeChangePolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHAPE_CHANGE_POLICY_UNSPECIFIED: _ClassVar[ShapeChangePolicy]
    SHAPE_CHANGE_POLICY_WARN: _ClassVar[ShapeChangePolicy]
    SHAPE_CHANGE_POLICY_FAIL: _ClassVar[ShapeChangePolicy]

class SourceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOURCE_KIND_UNSPECIFIED: _ClassVar[SourceKind]
    SOURCE_KIND_FILE: _ClassVar[SourceKind]
    SOURCE_KIND_HTTP: _ClassVar[SourceKind]
    SOURCE_KIND_SQL: _ClassVar[SourceKind]
    SOURCE_KIND_CONNECTOR: _ClassVar[SourceKind]
    SOURCE_KIND_SFTP: _ClassVar[SourceKind]
    SOURCE_KIND_FTP: _ClassVar[SourceKind]

class FileSelection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FILE_SELECTION_UNSPECIFIED: _ClassVar[FileSelection]
    FILE_SELECTION_SINGLE: _ClassVar[FileSelection]
    FILE_SELECTION_NEWEST: _ClassVar[FileSelection]
    FILE_SELECTION_EACH: _ClassVar[FileSelection]

class AuthKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUTH_KIND_UNSPECIFIED: _ClassVar[AuthKind]
    AUTH_KIND_NONE: _ClassVar[AuthKind]
    AUTH_KIND_BEARER: _ClassVar[AuthKind]
    AUTH_KIND_BASIC: _ClassVar[AuthKind]

class FormatKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FORMAT_KIND_UNSPECIFIED: _ClassVar[FormatKind]
    FORMAT_KIND_CSV: _ClassVar[FormatKind]
    FORMAT_KIND_TSV: _ClassVar[FormatKind]
    FORMAT_KIND_JSON: _ClassVar[FormatKind]
    FORMAT_KIND_NDJSON: _ClassVar[FormatKind]
    FORMAT_KIND_XLSX: _ClassVar[FormatKind]

class Compression(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPRESSION_UNSPECIFIED: _ClassVar[Compression]
    COMPRESSION_AUTO: _ClassVar[Compression]
    COMPRESSION_NONE: _ClassVar[Compression]
    COMPRESSION_GZIP: _ClassVar[Compression]
    COMPRESSION_ZIP: _ClassVar[Compression]

class TargetKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TARGET_KIND_UNSPECIFIED: _ClassVar[TargetKind]
    TARGET_KIND_SQL: _ClassVar[TargetKind]

class FreshnessMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FRESHNESS_METHOD_UNSPECIFIED: _ClassVar[FreshnessMethod]
    FRESHNESS_METHOD_MTIME_SIZE: _ClassVar[FreshnessMethod]
    FRESHNESS_METHOD_HTTP_VALIDATORS: _ClassVar[FreshnessMethod]
    FRESHNESS_METHOD_CHECKSUM: _ClassVar[FreshnessMethod]
    FRESHNESS_METHOD_DB_MAX_UPDATED: _ClassVar[FreshnessMethod]
    FRESHNESS_METHOD_CONNECTOR_TOKEN: _ClassVar[FreshnessMethod]

class SuccessAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUCCESS_ACTION_UNSPECIFIED: _ClassVar[SuccessAction]
    SUCCESS_ACTION_KEEP: _ClassVar[SuccessAction]
    SUCCESS_ACTION_MOVE_TO_BACKUP: _ClassVar[SuccessAction]
    SUCCESS_ACTION_DELETE: _ClassVar[SuccessAction]

class ChangesetMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANGESET_MODE_UNSPECIFIED: _ClassVar[ChangesetMode]
    CHANGESET_MODE_ON: _ClassVar[ChangesetMode]
    CHANGESET_MODE_OFF: _ClassVar[ChangesetMode]
OPERATION_UNSPECIFIED: Operation
OPERATION_IMPORT: Operation
OPERATION_EXPORT: Operation
OPERATION_ROLLBACK: Operation
OVERLAP_POLICY_UNSPECIFIED: OverlapPolicy
OVERLAP_POLICY_QUEUE: OverlapPolicy
OVERLAP_POLICY_SKIP: OverlapPolicy
NOTIFICATION_EVENT_UNSPECIFIED: NotificationEvent
NOTIFICATION_EVENT_FAILED: NotificationEvent
NOTIFICATION_EVENT_RECOVERED: NotificationEvent
NOTIFICATION_EVENT_STALE: NotificationEvent
NOTIFICATION_EVENT_AUTO_PAUSED: NotificationEvent
NOTIFICATION_FORMAT_UNSPECIFIED: NotificationFormat
NOTIFICATION_FORMAT_JSON: NotificationFormat
NOTIFICATION_FORMAT_SLACK: NotificationFormat
PROFILE_EVENT_TYPE_UNSPECIFIED: ProfileEventType
PROFILE_EVENT_TYPE_STALE: ProfileEventType
PROFILE_EVENT_TYPE_FRESH: ProfileEventType
PROFILE_EVENT_TYPE_AUTO_PAUSED: ProfileEventType
PROFILE_EVENT_TYPE_NOTIFICATION: ProfileEventType
SHAPE_CHANGE_POLICY_UNSPECIFIED: ShapeChangePolicy
SHAPE_CHANGE_POLICY_WARN: ShapeChangePolicy
SHAPE_CHANGE_POLICY_FAIL: ShapeChangePolicy
SOURCE_KIND_UNSPECIFIED: SourceKind
SOURCE_KIND_FILE: SourceKind
SOURCE_KIND_HTTP: SourceKind
SOURCE_KIND_SQL: SourceKind
SOURCE_KIND_CONNECTOR: SourceKind
SOURCE_KIND_SFTP: SourceKind
SOURCE_KIND_FTP: SourceKind
FILE_SELECTION_UNSPECIFIED: FileSelection
FILE_SELECTION_SINGLE: FileSelection
FILE_SELECTION_NEWEST: FileSelection
FILE_SELECTION_EACH: FileSelection
AUTH_KIND_UNSPECIFIED: AuthKind
AUTH_KIND_NONE: AuthKind
AUTH_KIND_BEARER: AuthKind
AUTH_KIND_BASIC: AuthKind
FORMAT_KIND_UNSPECIFIED: FormatKind
FORMAT_KIND_CSV: FormatKind
FORMAT_KIND_TSV: FormatKind
FORMAT_KIND_JSON: FormatKind
FORMAT_KIND_NDJSON: FormatKind
FORMAT_KIND_XLSX: FormatKind
COMPRESSION_UNSPECIFIED: Compression
COMPRESSION_AUTO: Compression
COMPRESSION_NONE: Compression
COMPRESSION_GZIP: Compression
COMPRESSION_ZIP: Compression
TARGET_KIND_UNSPECIFIED: TargetKind
TARGET_KIND_SQL: TargetKind
FRESHNESS_METHOD_UNSPECIFIED: FreshnessMethod
FRESHNESS_METHOD_MTIME_SIZE: FreshnessMethod
FRESHNESS_METHOD_HTTP_VALIDATORS: FreshnessMethod
FRESHNESS_METHOD_CHECKSUM: FreshnessMethod
FRESHNESS_METHOD_DB_MAX_UPDATED: FreshnessMethod
FRESHNESS_METHOD_CONNECTOR_TOKEN: FreshnessMethod
SUCCESS_ACTION_UNSPECIFIED: SuccessAction
SUCCESS_ACTION_KEEP: SuccessAction
SUCCESS_ACTION_MOVE_TO_BACKUP: SuccessAction
SUCCESS_ACTION_DELETE: SuccessAction
CHANGESET_MODE_UNSPECIFIED: ChangesetMode
CHANGESET_MODE_ON: ChangesetMode
CHANGESET_MODE_OFF: ChangesetMode

class Profile(_message.Message):
    __slots__ = ("name", "description", "entity_type", "operation", "source", "mapping", "target", "export", "freshness", "retention", "retry", "error_threshold", "overlap_policy", "batch_size", "labels", "mapping_digest", "dry_run_required", "create_time", "update_time", "revision", "expect_change_within", "notifications", "stale_since", "last_change_time", "failing_since", "failing_runs", "on_shape_change")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    EXPORT_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    RETENTION_FIELD_NUMBER: _ClassVar[int]
    RETRY_FIELD_NUMBER: _ClassVar[int]
    ERROR_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_POLICY_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    MAPPING_DIGEST_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    EXPECT_CHANGE_WITHIN_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    STALE_SINCE_FIELD_NUMBER: _ClassVar[int]
    LAST_CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    FAILING_SINCE_FIELD_NUMBER: _ClassVar[int]
    FAILING_RUNS_FIELD_NUMBER: _ClassVar[int]
    ON_SHAPE_CHANGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    entity_type: str
    operation: Operation
    source: Source
    mapping: Mapping
    target: Target
    export: ExportSpec
    freshness: _containers.RepeatedScalarFieldContainer[FreshnessMethod]
    retention: RetentionPolicy
    retry: RetryPolicy
    error_threshold: ErrorThreshold
    overlap_policy: OverlapPolicy
    batch_size: int
    labels: _containers.ScalarMap[str, str]
    mapping_digest: str
    dry_run_required: bool
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    revision: int
    expect_change_within: _duration_pb2.Duration
    notifications: _containers.RepeatedCompositeFieldContainer[ProfileNotification]
    stale_since: _timestamp_pb2.Timestamp
    last_change_time: _timestamp_pb2.Timestamp
    failing_since: _timestamp_pb2.Timestamp
    failing_runs: int
    on_shape_change: ShapeChangePolicy
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., entity_type: _Optional[str] = ..., operation: _Optional[_Union[Operation, str]] = ..., source: _Optional[_Union[Source, _Mapping]] = ..., mapping: _Optional[_Union[Mapping, _Mapping]] = ..., target: _Optional[_Union[Target, _Mapping]] = ..., export: _Optional[_Union[ExportSpec, _Mapping]] = ..., freshness: _Optional[_Iterable[_Union[FreshnessMethod, str]]] = ..., retention: _Optional[_Union[RetentionPolicy, _Mapping]] = ..., retry: _Optional[_Union[RetryPolicy, _Mapping]] = ..., error_threshold: _Optional[_Union[ErrorThreshold, _Mapping]] = ..., overlap_policy: _Optional[_Union[OverlapPolicy, str]] = ..., batch_size: _Optional[int] = ..., labels: _Optional[_Mapping[str, str]] = ..., mapping_digest: _Optional[str] = ..., dry_run_required: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revision: _Optional[int] = ..., expect_change_within: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., notifications: _Optional[_Iterable[_Union[ProfileNotification, _Mapping]]] = ..., stale_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failing_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failing_runs: _Optional[int] = ..., on_shape_change: _Optional[_Union[ShapeChangePolicy, str]] = ...) -> None: ...

class ProfileNotification(_message.Message):
    __slots__ = ("url", "events", "format", "secret_ref")
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SECRET_REF_FIELD_NUMBER: _ClassVar[int]
    url: str
    events: _containers.RepeatedScalarFieldContainer[NotificationEvent]
    format: NotificationFormat
    secret_ref: str
    def __init__(self, url: _Optional[str] = ..., events: _Optional[_Iterable[_Union[NotificationEvent, str]]] = ..., format: _Optional[_Union[NotificationFormat, str]] = ..., secret_ref: _Optional[str] = ...) -> None: ...

class ProfileEvent(_message.Message):
    __slots__ = ("profile", "sequence", "event_time", "type", "message", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    profile: str
    sequence: int
    event_time: _timestamp_pb2.Timestamp
    type: ProfileEventType
    message: str
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, profile: _Optional[str] = ..., sequence: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., type: _Optional[_Union[ProfileEventType, str]] = ..., message: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ProfileLifecycleEvent(_message.Message):
    __slots__ = ("schema_version", "event_id", "routing_key", "event_time", "profile", "stale_since", "last_change_time", "expect_change_within")
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ROUTING_KEY_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    STALE_SINCE_FIELD_NUMBER: _ClassVar[int]
    LAST_CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPECT_CHANGE_WITHIN_FIELD_NUMBER: _ClassVar[int]
    schema_version: int
    event_id: str
    routing_key: str
    event_time: _timestamp_pb2.Timestamp
    profile: str
    stale_since: _timestamp_pb2.Timestamp
    last_change_time: _timestamp_pb2.Timestamp
    expect_change_within: _duration_pb2.Duration
    def __init__(self, schema_version: _Optional[int] = ..., event_id: _Optional[str] = ..., routing_key: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., profile: _Optional[str] = ..., stale_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expect_change_within: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Source(_message.Message):
    __slots__ = ("kind", "location", "selection", "format", "credentials_ref", "auth", "headers", "timeout", "dsn_ref", "connector", "options", "updated_column", "stable_for", "ready_marker", "host_key", "known_hosts", "tls")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_REF_FIELD_NUMBER: _ClassVar[int]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    DSN_REF_FIELD_NUMBER: _ClassVar[int]
    CONNECTOR_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_COLUMN_FIELD_NUMBER: _ClassVar[int]
    STABLE_FOR_FIELD_NUMBER: _ClassVar[int]
    READY_MARKER_FIELD_NUMBER: _ClassVar[int]
    HOST_KEY_FIELD_NUMBER: _ClassVar[int]
    KNOWN_HOSTS_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    kind: SourceKind
    location: str
    selection: FileSelection
    format: Format
    credentials_ref: str
    auth: AuthKind
    headers: _containers.ScalarMap[str, str]
    timeout: _duration_pb2.Duration
    dsn_ref: str
    connector: str
    options: _containers.ScalarMap[str, str]
    updated_column: str
    stable_for: _duration_pb2.Duration
    ready_marker: str
    host_key: str
    known_hosts: str
    tls: bool
    def __init__(self, kind: _Optional[_Union[SourceKind, str]] = ..., location: _Optional[str] = ..., selection: _Optional[_Union[FileSelection, str]] = ..., format: _Optional[_Union[Format, _Mapping]] = ..., credentials_ref: _Optional[str] = ..., auth: _Optional[_Union[AuthKind, str]] = ..., headers: _Optional[_Mapping[str, str]] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., dsn_ref: _Optional[str] = ..., connector: _Optional[str] = ..., options: _Optional[_Mapping[str, str]] = ..., updated_column: _Optional[str] = ..., stable_for: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., ready_marker: _Optional[str] = ..., host_key: _Optional[str] = ..., known_hosts: _Optional[str] = ..., tls: _Optional[bool] = ...) -> None: ...

class Format(_message.Message):
    __slots__ = ("kind", "delimiter", "quote_char", "header", "encoding", "records_path", "sheet", "compression", "member")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DELIMITER_FIELD_NUMBER: _ClassVar[int]
    QUOTE_CHAR_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    RECORDS_PATH_FIELD_NUMBER: _ClassVar[int]
    SHEET_FIELD_NUMBER: _ClassVar[int]
    COMPRESSION_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    kind: FormatKind
    delimiter: str
    quote_char: str
    header: bool
    encoding: str
    records_path: str
    sheet: str
    compression: Compression
    member: str
    def __init__(self, kind: _Optional[_Union[FormatKind, str]] = ..., delimiter: _Optional[str] = ..., quote_char: _Optional[str] = ..., header: _Optional[bool] = ..., encoding: _Optional[str] = ..., records_path: _Optional[str] = ..., sheet: _Optional[str] = ..., compression: _Optional[_Union[Compression, str]] = ..., member: _Optional[str] = ...) -> None: ...

class Transform(_message.Message):
    __slots__ = ("name", "args")
    class ArgsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    args: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., args: _Optional[_Mapping[str, str]] = ...) -> None: ...

class FieldMapping(_message.Message):
    __slots__ = ("target", "source", "sources", "transforms", "default_value")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    TRANSFORMS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    target: str
    source: str
    sources: _containers.RepeatedScalarFieldContainer[str]
    transforms: _containers.RepeatedCompositeFieldContainer[Transform]
    default_value: str
    def __init__(self, target: _Optional[str] = ..., source: _Optional[str] = ..., sources: _Optional[_Iterable[str]] = ..., transforms: _Optional[_Iterable[_Union[Transform, _Mapping]]] = ..., default_value: _Optional[str] = ...) -> None: ...

class ForwardFill(_message.Message):
    __slots__ = ("group_column", "columns")
    GROUP_COLUMN_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    group_column: str
    columns: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, group_column: _Optional[str] = ..., columns: _Optional[_Iterable[str]] = ...) -> None: ...

class RowFilter(_message.Message):
    __slots__ = ("column", "equals_any", "not_empty", "negate")
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    EQUALS_ANY_FIELD_NUMBER: _ClassVar[int]
    NOT_EMPTY_FIELD_NUMBER: _ClassVar[int]
    NEGATE_FIELD_NUMBER: _ClassVar[int]
    column: str
    equals_any: _containers.RepeatedScalarFieldContainer[str]
    not_empty: bool
    negate: bool
    def __init__(self, column: _Optional[str] = ..., equals_any: _Optional[_Iterable[str]] = ..., not_empty: _Optional[bool] = ..., negate: _Optional[bool] = ...) -> None: ...

class Mapping(_message.Message):
    __slots__ = ("fields", "key_fields", "required_fields", "defaults", "forward_fill", "filters")
    class DefaultsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELDS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    DEFAULTS_FIELD_NUMBER: _ClassVar[int]
    FORWARD_FILL_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    fields: _containers.RepeatedCompositeFieldContainer[FieldMapping]
    key_fields: _containers.RepeatedScalarFieldContainer[str]
    required_fields: _containers.RepeatedScalarFieldContainer[str]
    defaults: _containers.ScalarMap[str, str]
    forward_fill: ForwardFill
    filters: _containers.RepeatedCompositeFieldContainer[RowFilter]
    def __init__(self, fields: _Optional[_Iterable[_Union[FieldMapping, _Mapping]]] = ..., key_fields: _Optional[_Iterable[str]] = ..., required_fields: _Optional[_Iterable[str]] = ..., defaults: _Optional[_Mapping[str, str]] = ..., forward_fill: _Optional[_Union[ForwardFill, _Mapping]] = ..., filters: _Optional[_Iterable[_Union[RowFilter, _Mapping]]] = ...) -> None: ...

class Target(_message.Message):
    __slots__ = ("kind", "dsn_ref", "table")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DSN_REF_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    kind: TargetKind
    dsn_ref: str
    table: str
    def __init__(self, kind: _Optional[_Union[TargetKind, str]] = ..., dsn_ref: _Optional[str] = ..., table: _Optional[str] = ...) -> None: ...

class ExportSpec(_message.Message):
    __slots__ = ("directory", "format", "file_prefix")
    DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    FILE_PREFIX_FIELD_NUMBER: _ClassVar[int]
    directory: str
    format: Format
    file_prefix: str
    def __init__(self, directory: _Optional[str] = ..., format: _Optional[_Union[Format, _Mapping]] = ..., file_prefix: _Optional[str] = ...) -> None: ...

class RetentionPolicy(_message.Message):
    __slots__ = ("on_success", "backup_dir", "failed_dir", "keep_failed_days", "sample_rows", "masked_fields", "keep_runs_days", "keep_min_runs", "keep_backup_days", "changeset")
    ON_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    BACKUP_DIR_FIELD_NUMBER: _ClassVar[int]
    FAILED_DIR_FIELD_NUMBER: _ClassVar[int]
    KEEP_FAILED_DAYS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_ROWS_FIELD_NUMBER: _ClassVar[int]
    MASKED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    KEEP_RUNS_DAYS_FIELD_NUMBER: _ClassVar[int]
    KEEP_MIN_RUNS_FIELD_NUMBER: _ClassVar[int]
    KEEP_BACKUP_DAYS_FIELD_NUMBER: _ClassVar[int]
    CHANGESET_FIELD_NUMBER: _ClassVar[int]
    on_success: SuccessAction
    backup_dir: str
    failed_dir: str
    keep_failed_days: int
    sample_rows: int
    masked_fields: _containers.RepeatedScalarFieldContainer[str]
    keep_runs_days: int
    keep_min_runs: int
    keep_backup_days: int
    changeset: ChangesetMode
    def __init__(self, on_success: _Optional[_Union[SuccessAction, str]] = ..., backup_dir: _Optional[str] = ..., failed_dir: _Optional[str] = ..., keep_failed_days: _Optional[int] = ..., sample_rows: _Optional[int] = ..., masked_fields: _Optional[_Iterable[str]] = ..., keep_runs_days: _Optional[int] = ..., keep_min_runs: _Optional[int] = ..., keep_backup_days: _Optional[int] = ..., changeset: _Optional[_Union[ChangesetMode, str]] = ...) -> None: ...

class RetryPolicy(_message.Message):
    __slots__ = ("max_attempts", "initial_backoff", "max_backoff", "max_elapsed")
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    INITIAL_BACKOFF_FIELD_NUMBER: _ClassVar[int]
    MAX_BACKOFF_FIELD_NUMBER: _ClassVar[int]
    MAX_ELAPSED_FIELD_NUMBER: _ClassVar[int]
    max_attempts: int
    initial_backoff: _duration_pb2.Duration
    max_backoff: _duration_pb2.Duration
    max_elapsed: _duration_pb2.Duration
    def __init__(self, max_attempts: _Optional[int] = ..., initial_backoff: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_backoff: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ErrorThreshold(_message.Message):
    __slots__ = ("max_errors", "max_error_percent")
    MAX_ERRORS_FIELD_NUMBER: _ClassVar[int]
    MAX_ERROR_PERCENT_FIELD_NUMBER: _ClassVar[int]
    max_errors: int
    max_error_percent: float
    def __init__(self, max_errors: _Optional[int] = ..., max_error_percent: _Optional[float] = ...) -> None: ...
