import datetime

from ferry.v1 import run_pb2 as _run_pb2
from ferry.v1 import runner_task_pb2 as _runner_task_pb2
from ferry.v1 import schedule_pb2 as _schedule_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AcquireDueSchedulesRequest(_message.Message):
    __slots__ = ("scheduler_id", "limit", "lease_duration")
    SCHEDULER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    LEASE_DURATION_FIELD_NUMBER: _ClassVar[int]
    scheduler_id: str
    limit: int
    lease_duration: _duration_pb2.Duration
    def __init__(self, scheduler_id: _Optional[str] = ..., limit: _Optional[int] = ..., lease_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class AcquireDueSchedulesResponse(_message.Message):
    __slots__ = ("schedules",)
    SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    schedules: _containers.RepeatedCompositeFieldContainer[_schedule_pb2.Schedule]
    def __init__(self, schedules: _Optional[_Iterable[_Union[_schedule_pb2.Schedule, _Mapping]]] = ...) -> None: ...

class ReleaseScheduleRequest(_message.Message):
    __slots__ = ("schedule_id", "scheduler_id", "next_fire_time", "last_fire_time", "missed_fires")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_ID_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_FIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    MISSED_FIRES_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    scheduler_id: str
    next_fire_time: _timestamp_pb2.Timestamp
    last_fire_time: _timestamp_pb2.Timestamp
    missed_fires: _containers.RepeatedCompositeFieldContainer[_schedule_pb2.MissedFire]
    def __init__(self, schedule_id: _Optional[str] = ..., scheduler_id: _Optional[str] = ..., next_fire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_fire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., missed_fires: _Optional[_Iterable[_Union[_schedule_pb2.MissedFire, _Mapping]]] = ...) -> None: ...

class ReleaseScheduleResponse(_message.Message):
    __slots__ = ("released",)
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    released: bool
    def __init__(self, released: _Optional[bool] = ...) -> None: ...

class CreateRunRequest(_message.Message):
    __slots__ = ("profile", "schedule_id", "fire_time", "trigger", "dry_run", "force", "request_id")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    FIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    profile: str
    schedule_id: str
    fire_time: _timestamp_pb2.Timestamp
    trigger: _run_pb2.RunTrigger
    dry_run: bool
    force: bool
    request_id: str
    def __init__(self, profile: _Optional[str] = ..., schedule_id: _Optional[str] = ..., fire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., trigger: _Optional[_Union[_run_pb2.RunTrigger, str]] = ..., dry_run: _Optional[bool] = ..., force: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateRunResponse(_message.Message):
    __slots__ = ("run", "created")
    RUN_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    run: _run_pb2.Run
    created: bool
    def __init__(self, run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class ListRunsToPublishRequest(_message.Message):
    __slots__ = ("published_before", "limit")
    PUBLISHED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    published_before: _timestamp_pb2.Timestamp
    limit: int
    def __init__(self, published_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class ListRunsToPublishResponse(_message.Message):
    __slots__ = ("runs", "runner_tasks")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    RUNNER_TASKS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[_run_pb2.Run]
    runner_tasks: _containers.RepeatedCompositeFieldContainer[_runner_task_pb2.RunnerTask]
    def __init__(self, runs: _Optional[_Iterable[_Union[_run_pb2.Run, _Mapping]]] = ..., runner_tasks: _Optional[_Iterable[_Union[_runner_task_pb2.RunnerTask, _Mapping]]] = ...) -> None: ...

class MarkRunsPublishedRequest(_message.Message):
    __slots__ = ("run_ids", "runner_task_ids")
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    RUNNER_TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    runner_task_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, run_ids: _Optional[_Iterable[str]] = ..., runner_task_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class MarkRunsPublishedResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StreamQueuedRunsRequest(_message.Message):
    __slots__ = ("scheduler_id",)
    SCHEDULER_ID_FIELD_NUMBER: _ClassVar[int]
    scheduler_id: str
    def __init__(self, scheduler_id: _Optional[str] = ...) -> None: ...

class StreamQueuedRunsResponse(_message.Message):
    __slots__ = ("run", "runner_task")
    RUN_FIELD_NUMBER: _ClassVar[int]
    RUNNER_TASK_FIELD_NUMBER: _ClassVar[int]
    run: _run_pb2.Run
    runner_task: _runner_task_pb2.RunnerTask
    def __init__(self, run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ..., runner_task: _Optional[_Union[_runner_task_pb2.RunnerTask, _Mapping]] = ...) -> None: ...
