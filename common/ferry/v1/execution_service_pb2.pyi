import datetime

from ferry.v1 import profile_pb2 as _profile_pb2
from ferry.v1 import run_pb2 as _run_pb2
from ferry.v1 import run_service_pb2 as _run_service_pb2
from ferry.v1 import runner_task_pb2 as _runner_task_pb2
from ferry.v1 import source_shape_pb2 as _source_shape_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClaimOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLAIM_OUTCOME_UNSPECIFIED: _ClassVar[ClaimOutcome]
    CLAIM_OUTCOME_CLAIMED: _ClassVar[ClaimOutcome]
    CLAIM_OUTCOME_ALREADY_CLAIMED: _ClassVar[ClaimOutcome]
    CLAIM_OUTCOME_FINISHED: _ClassVar[ClaimOutcome]
    CLAIM_OUTCOME_DEFERRED: _ClassVar[ClaimOutcome]
    CLAIM_OUTCOME_STALE: _ClassVar[ClaimOutcome]
CLAIM_OUTCOME_UNSPECIFIED: ClaimOutcome
CLAIM_OUTCOME_CLAIMED: ClaimOutcome
CLAIM_OUTCOME_ALREADY_CLAIMED: ClaimOutcome
CLAIM_OUTCOME_FINISHED: ClaimOutcome
CLAIM_OUTCOME_DEFERRED: ClaimOutcome
CLAIM_OUTCOME_STALE: ClaimOutcome

class GetKeptRunsRequest(_message.Message):
    __slots__ = ("run_ids",)
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, run_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetKeptRunsResponse(_message.Message):
    __slots__ = ("run_ids",)
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, run_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ClaimRunnerTaskRequest(_message.Message):
    __slots__ = ("task_id", "runner_id")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    runner_id: str
    def __init__(self, task_id: _Optional[str] = ..., runner_id: _Optional[str] = ...) -> None: ...

class ClaimRunnerTaskResponse(_message.Message):
    __slots__ = ("claimed", "task", "profile", "last_good_shape")
    CLAIMED_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    LAST_GOOD_SHAPE_FIELD_NUMBER: _ClassVar[int]
    claimed: bool
    task: _runner_task_pb2.RunnerTask
    profile: _profile_pb2.Profile
    last_good_shape: _source_shape_pb2.SourceShape
    def __init__(self, claimed: _Optional[bool] = ..., task: _Optional[_Union[_runner_task_pb2.RunnerTask, _Mapping]] = ..., profile: _Optional[_Union[_profile_pb2.Profile, _Mapping]] = ..., last_good_shape: _Optional[_Union[_source_shape_pb2.SourceShape, _Mapping]] = ...) -> None: ...

class CompleteRunnerTaskRequest(_message.Message):
    __slots__ = ("task_id", "runner_id", "checks", "error_message", "answer")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    runner_id: str
    checks: _containers.RepeatedCompositeFieldContainer[_runner_task_pb2.RunnerTaskCheck]
    error_message: str
    answer: _runner_task_pb2.RunnerTask
    def __init__(self, task_id: _Optional[str] = ..., runner_id: _Optional[str] = ..., checks: _Optional[_Iterable[_Union[_runner_task_pb2.RunnerTaskCheck, _Mapping]]] = ..., error_message: _Optional[str] = ..., answer: _Optional[_Union[_runner_task_pb2.RunnerTask, _Mapping]] = ...) -> None: ...

class CompleteRunnerTaskResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: _runner_task_pb2.RunnerTask
    def __init__(self, task: _Optional[_Union[_runner_task_pb2.RunnerTask, _Mapping]] = ...) -> None: ...

class ClaimRunRequest(_message.Message):
    __slots__ = ("run_id", "runner_id", "lease_duration", "attempt")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_DURATION_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    runner_id: str
    lease_duration: _duration_pb2.Duration
    attempt: int
    def __init__(self, run_id: _Optional[str] = ..., runner_id: _Optional[str] = ..., lease_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., attempt: _Optional[int] = ...) -> None: ...

class ClaimRunResponse(_message.Message):
    __slots__ = ("outcome", "run", "profile", "fencing_token", "lease_expire_time", "last_good_shape")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    FENCING_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_GOOD_SHAPE_FIELD_NUMBER: _ClassVar[int]
    outcome: ClaimOutcome
    run: _run_pb2.Run
    profile: _profile_pb2.Profile
    fencing_token: int
    lease_expire_time: _timestamp_pb2.Timestamp
    last_good_shape: _source_shape_pb2.SourceShape
    def __init__(self, outcome: _Optional[_Union[ClaimOutcome, str]] = ..., run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ..., profile: _Optional[_Union[_profile_pb2.Profile, _Mapping]] = ..., fencing_token: _Optional[int] = ..., lease_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_good_shape: _Optional[_Union[_source_shape_pb2.SourceShape, _Mapping]] = ...) -> None: ...

class HeartbeatRunRequest(_message.Message):
    __slots__ = ("run_id", "runner_id", "fencing_token", "lease_duration")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    FENCING_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LEASE_DURATION_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    runner_id: str
    fencing_token: int
    lease_duration: _duration_pb2.Duration
    def __init__(self, run_id: _Optional[str] = ..., runner_id: _Optional[str] = ..., fencing_token: _Optional[int] = ..., lease_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class HeartbeatRunResponse(_message.Message):
    __slots__ = ("lease_expire_time", "cancel_requested")
    LEASE_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    lease_expire_time: _timestamp_pb2.Timestamp
    cancel_requested: bool
    def __init__(self, lease_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_requested: _Optional[bool] = ...) -> None: ...

class ReportProgressRequest(_message.Message):
    __slots__ = ("run_id", "runner_id", "fencing_token", "counts", "rows_total", "events")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    FENCING_TOKEN_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    ROWS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    runner_id: str
    fencing_token: int
    counts: _run_pb2.RunCounts
    rows_total: int
    events: _containers.RepeatedCompositeFieldContainer[_run_pb2.RunEvent]
    def __init__(self, run_id: _Optional[str] = ..., runner_id: _Optional[str] = ..., fencing_token: _Optional[int] = ..., counts: _Optional[_Union[_run_pb2.RunCounts, _Mapping]] = ..., rows_total: _Optional[int] = ..., events: _Optional[_Iterable[_Union[_run_pb2.RunEvent, _Mapping]]] = ...) -> None: ...

class ReportProgressResponse(_message.Message):
    __slots__ = ("cancel_requested",)
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    cancel_requested: bool
    def __init__(self, cancel_requested: _Optional[bool] = ...) -> None: ...

class FinishRunRequest(_message.Message):
    __slots__ = ("run_id", "runner_id", "fencing_token", "status", "counts", "first_error", "first_skip_reason", "warnings", "freshness", "new_freshness_token", "retention_actions", "sample_location", "error_class", "error_message", "hint", "rejected_rows", "rejected_columns", "events", "source_shape", "imported_files", "profile_digest", "more_input_waiting", "sample", "inputs", "outputs")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    FENCING_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    FIRST_ERROR_FIELD_NUMBER: _ClassVar[int]
    FIRST_SKIP_REASON_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    NEW_FRESHNESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RETENTION_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_CLASS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    HINT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_ROWS_FIELD_NUMBER: _ClassVar[int]
    REJECTED_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_SHAPE_FIELD_NUMBER: _ClassVar[int]
    IMPORTED_FILES_FIELD_NUMBER: _ClassVar[int]
    PROFILE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    MORE_INPUT_WAITING_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    runner_id: str
    fencing_token: int
    status: _run_pb2.RunStatus
    counts: _run_pb2.RunCounts
    first_error: _run_pb2.RowError
    first_skip_reason: str
    warnings: _containers.RepeatedScalarFieldContainer[str]
    freshness: _run_pb2.FreshnessEvidence
    new_freshness_token: str
    retention_actions: _containers.RepeatedCompositeFieldContainer[_run_pb2.RetentionAction]
    sample_location: str
    error_class: _run_pb2.ErrorClass
    error_message: str
    hint: str
    rejected_rows: _containers.RepeatedCompositeFieldContainer[_run_service_pb2.RejectedRow]
    rejected_columns: _containers.RepeatedScalarFieldContainer[str]
    events: _containers.RepeatedCompositeFieldContainer[_run_pb2.RunEvent]
    source_shape: _source_shape_pb2.SourceShape
    imported_files: _containers.RepeatedCompositeFieldContainer[ImportedSourceFile]
    profile_digest: str
    more_input_waiting: bool
    sample: _run_pb2.RunSample
    inputs: _containers.RepeatedCompositeFieldContainer[_run_pb2.RunInput]
    outputs: _containers.RepeatedCompositeFieldContainer[_run_pb2.RunOutput]
    def __init__(self, run_id: _Optional[str] = ..., runner_id: _Optional[str] = ..., fencing_token: _Optional[int] = ..., status: _Optional[_Union[_run_pb2.RunStatus, str]] = ..., counts: _Optional[_Union[_run_pb2.RunCounts, _Mapping]] = ..., first_error: _Optional[_Union[_run_pb2.RowError, _Mapping]] = ..., first_skip_reason: _Optional[str] = ..., warnings: _Optional[_Iterable[str]] = ..., freshness: _Optional[_Union[_run_pb2.FreshnessEvidence, _Mapping]] = ..., new_freshness_token: _Optional[str] = ..., retention_actions: _Optional[_Iterable[_Union[_run_pb2.RetentionAction, _Mapping]]] = ..., sample_location: _Optional[str] = ..., error_class: _Optional[_Union[_run_pb2.ErrorClass, str]] = ..., error_message: _Optional[str] = ..., hint: _Optional[str] = ..., rejected_rows: _Optional[_Iterable[_Union[_run_service_pb2.RejectedRow, _Mapping]]] = ..., rejected_columns: _Optional[_Iterable[str]] = ..., events: _Optional[_Iterable[_Union[_run_pb2.RunEvent, _Mapping]]] = ..., source_shape: _Optional[_Union[_source_shape_pb2.SourceShape, _Mapping]] = ..., imported_files: _Optional[_Iterable[_Union[ImportedSourceFile, _Mapping]]] = ..., profile_digest: _Optional[str] = ..., more_input_waiting: _Optional[bool] = ..., sample: _Optional[_Union[_run_pb2.RunSample, _Mapping]] = ..., inputs: _Optional[_Iterable[_Union[_run_pb2.RunInput, _Mapping]]] = ..., outputs: _Optional[_Iterable[_Union[_run_pb2.RunOutput, _Mapping]]] = ...) -> None: ...

class ImportedSourceFile(_message.Message):
    __slots__ = ("path", "checksum", "run_id", "import_time")
    PATH_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    IMPORT_TIME_FIELD_NUMBER: _ClassVar[int]
    path: str
    checksum: str
    run_id: str
    import_time: _timestamp_pb2.Timestamp
    def __init__(self, path: _Optional[str] = ..., checksum: _Optional[str] = ..., run_id: _Optional[str] = ..., import_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FinishRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _run_pb2.Run
    def __init__(self, run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ...) -> None: ...

class ReleaseRunRequest(_message.Message):
    __slots__ = ("run_id", "runner_id", "fencing_token", "reason", "error_class", "attempt_used")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    FENCING_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_CLASS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_USED_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    runner_id: str
    fencing_token: int
    reason: str
    error_class: _run_pb2.ErrorClass
    attempt_used: bool
    def __init__(self, run_id: _Optional[str] = ..., runner_id: _Optional[str] = ..., fencing_token: _Optional[int] = ..., reason: _Optional[str] = ..., error_class: _Optional[_Union[_run_pb2.ErrorClass, str]] = ..., attempt_used: _Optional[bool] = ...) -> None: ...

class ReleaseRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _run_pb2.Run
    def __init__(self, run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ...) -> None: ...

class GetFreshnessTokenRequest(_message.Message):
    __slots__ = ("profile", "profile_digest", "checksums")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    PROFILE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    CHECKSUMS_FIELD_NUMBER: _ClassVar[int]
    profile: str
    profile_digest: str
    checksums: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, profile: _Optional[str] = ..., profile_digest: _Optional[str] = ..., checksums: _Optional[_Iterable[str]] = ...) -> None: ...

class GetFreshnessTokenResponse(_message.Message):
    __slots__ = ("token", "method", "update_time", "imported_files")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    IMPORTED_FILES_FIELD_NUMBER: _ClassVar[int]
    token: str
    method: _profile_pb2.FreshnessMethod
    update_time: _timestamp_pb2.Timestamp
    imported_files: _containers.RepeatedCompositeFieldContainer[ImportedSourceFile]
    def __init__(self, token: _Optional[str] = ..., method: _Optional[_Union[_profile_pb2.FreshnessMethod, str]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., imported_files: _Optional[_Iterable[_Union[ImportedSourceFile, _Mapping]]] = ...) -> None: ...

class GetFailedFilePinsRequest(_message.Message):
    __slots__ = ("profile",)
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    profile: str
    def __init__(self, profile: _Optional[str] = ...) -> None: ...

class FailedFilePin(_message.Message):
    __slots__ = ("path", "release_time")
    PATH_FIELD_NUMBER: _ClassVar[int]
    RELEASE_TIME_FIELD_NUMBER: _ClassVar[int]
    path: str
    release_time: _timestamp_pb2.Timestamp
    def __init__(self, path: _Optional[str] = ..., release_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetFailedFilePinsResponse(_message.Message):
    __slots__ = ("pins",)
    PINS_FIELD_NUMBER: _ClassVar[int]
    pins: _containers.RepeatedCompositeFieldContainer[FailedFilePin]
    def __init__(self, pins: _Optional[_Iterable[_Union[FailedFilePin, _Mapping]]] = ...) -> None: ...
