import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunRequest(_message.Message):
    __slots__ = ("schema_version", "run_id", "profile", "attempt", "publish_time", "publish_count")
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_COUNT_FIELD_NUMBER: _ClassVar[int]
    schema_version: int
    run_id: str
    profile: str
    attempt: int
    publish_time: _timestamp_pb2.Timestamp
    publish_count: int
    def __init__(self, schema_version: _Optional[int] = ..., run_id: _Optional[str] = ..., profile: _Optional[str] = ..., attempt: _Optional[int] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., publish_count: _Optional[int] = ...) -> None: ...
