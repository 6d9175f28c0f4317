from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecordAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_ACTION_UNSPECIFIED: _ClassVar[RecordAction]
    RECORD_ACTION_CREATED: _ClassVar[RecordAction]
    RECORD_ACTION_UPDATED: _ClassVar[RecordAction]
    RECORD_ACTION_DEACTIVATED: _ClassVar[RecordAction]
    RECORD_ACTION_DELETED: _ClassVar[RecordAction]
RECORD_ACTION_UNSPECIFIED: RecordAction
RECORD_ACTION_CREATED: RecordAction
RECORD_ACTION_UPDATED: RecordAction
RECORD_ACTION_DEACTIVATED: RecordAction
RECORD_ACTION_DELETED: RecordAction

class FieldChange(_message.Message):
    __slots__ = ("field", "before", "after")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    field: str
    before: _struct_pb2.Value
    after: _struct_pb2.Value
    def __init__(self, field: _Optional[str] = ..., before: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., after: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class RecordChange(_message.Message):
    __slots__ = ("run_id", "key", "action", "fields")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    key: _containers.RepeatedScalarFieldContainer[str]
    action: RecordAction
    fields: _containers.RepeatedCompositeFieldContainer[FieldChange]
    def __init__(self, run_id: _Optional[str] = ..., key: _Optional[_Iterable[str]] = ..., action: _Optional[_Union[RecordAction, str]] = ..., fields: _Optional[_Iterable[_Union[FieldChange, _Mapping]]] = ...) -> None: ...

class FieldValue(_message.Message):
    __slots__ = ("field", "value")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    field: str
    value: _struct_pb2.Value
    def __init__(self, field: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class StoredRecord(_message.Message):
    __slots__ = ("key", "found", "values", "last_run_id", "history")
    KEY_FIELD_NUMBER: _ClassVar[int]
    FOUND_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    key: _containers.RepeatedScalarFieldContainer[str]
    found: bool
    values: _containers.RepeatedCompositeFieldContainer[FieldValue]
    last_run_id: str
    history: _containers.RepeatedCompositeFieldContainer[RecordChange]
    def __init__(self, key: _Optional[_Iterable[str]] = ..., found: _Optional[bool] = ..., values: _Optional[_Iterable[_Union[FieldValue, _Mapping]]] = ..., last_run_id: _Optional[str] = ..., history: _Optional[_Iterable[_Union[RecordChange, _Mapping]]] = ...) -> None: ...

class RecordKey(_message.Message):
    __slots__ = ("parts",)
    PARTS_FIELD_NUMBER: _ClassVar[int]
    parts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, parts: _Optional[_Iterable[str]] = ...) -> None: ...

class KeyValueChange(_message.Message):
    __slots__ = ("key", "value_a", "value_b")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_A_FIELD_NUMBER: _ClassVar[int]
    VALUE_B_FIELD_NUMBER: _ClassVar[int]
    key: _containers.RepeatedScalarFieldContainer[str]
    value_a: _struct_pb2.Value
    value_b: _struct_pb2.Value
    def __init__(self, key: _Optional[_Iterable[str]] = ..., value_a: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., value_b: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class FieldDiff(_message.Message):
    __slots__ = ("field", "changes", "count")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    field: str
    changes: _containers.RepeatedCompositeFieldContainer[KeyValueChange]
    count: int
    def __init__(self, field: _Optional[str] = ..., changes: _Optional[_Iterable[_Union[KeyValueChange, _Mapping]]] = ..., count: _Optional[int] = ...) -> None: ...

class RunDiff(_message.Message):
    __slots__ = ("run_a", "run_b", "created", "created_count", "deleted", "deleted_count", "fields", "runs")
    RUN_A_FIELD_NUMBER: _ClassVar[int]
    RUN_B_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    CREATED_COUNT_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    DELETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    run_a: str
    run_b: str
    created: _containers.RepeatedCompositeFieldContainer[RecordKey]
    created_count: int
    deleted: _containers.RepeatedCompositeFieldContainer[RecordKey]
    deleted_count: int
    fields: _containers.RepeatedCompositeFieldContainer[FieldDiff]
    runs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, run_a: _Optional[str] = ..., run_b: _Optional[str] = ..., created: _Optional[_Iterable[_Union[RecordKey, _Mapping]]] = ..., created_count: _Optional[int] = ..., deleted: _Optional[_Iterable[_Union[RecordKey, _Mapping]]] = ..., deleted_count: _Optional[int] = ..., fields: _Optional[_Iterable[_Union[FieldDiff, _Mapping]]] = ..., runs: _Optional[_Iterable[str]] = ...) -> None: ...

class RunRecordsQuery(_message.Message):
    __slots__ = ("run_id", "actions", "page_size", "page_token")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    actions: _containers.RepeatedScalarFieldContainer[RecordAction]
    page_size: int
    page_token: str
    def __init__(self, run_id: _Optional[str] = ..., actions: _Optional[_Iterable[_Union[RecordAction, str]]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class RunRecordsPage(_message.Message):
    __slots__ = ("records", "next_page_token")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[RecordChange]
    next_page_token: str
    def __init__(self, records: _Optional[_Iterable[_Union[RecordChange, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RecordQuery(_message.Message):
    __slots__ = ("key", "history_limit")
    KEY_FIELD_NUMBER: _ClassVar[int]
    HISTORY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    key: _containers.RepeatedScalarFieldContainer[str]
    history_limit: int
    def __init__(self, key: _Optional[_Iterable[str]] = ..., history_limit: _Optional[int] = ...) -> None: ...

class RunDiffQuery(_message.Message):
    __slots__ = ("run_a", "run_b", "key_limit")
    RUN_A_FIELD_NUMBER: _ClassVar[int]
    RUN_B_FIELD_NUMBER: _ClassVar[int]
    KEY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    run_a: str
    run_b: str
    key_limit: int
    def __init__(self, run_a: _Optional[str] = ..., run_b: _Optional[str] = ..., key_limit: _Optional[int] = ...) -> None: ...
