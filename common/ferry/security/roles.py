"""Who may call what: the role every gRPC method of Ferry requires.

Three roles, one per kind of caller:

- ``reader``: operators' read-only view (Get*, List*, Watch*, Preview*,
  Summarize*, ListRejectedRows, GetRunSample, ListMissedFires) and server reflection.
- ``operator``: everything ``reader`` may do, plus triggering and editing
  (Apply, Delete, Create, Update, Pause, Resume, Start, Cancel, Retry,
  ValidateProfile, CreateRunnerTask).
- ``service``: schedulers and runners: every DispatchService and
  ExecutionService method, plus everything ``reader`` may do. It cannot
  edit profiles or schedules or trigger runs.

``METHOD_ROLES`` names every method explicitly, so a new RPC has no role
until someone decides which one it needs (a unit test walks the generated
descriptors and fails on any method missing here). Methods that are in no
table are refused: the default is closed.

Health checking is open to everyone (load balancers and orchestrators probe
it without credentials). Reflection needs ``reader``: an anonymous peer
learns nothing but whether the server is up.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    READER = "reader"
    OPERATOR = "operator"
    SERVICE = "service"


# A role -> the method requirements it satisfies.
GRANTS: Mapping[Role, frozenset[Role]] = MappingProxyType({
    Role.READER: frozenset({Role.READER}),
    Role.OPERATOR: frozenset({Role.READER, Role.OPERATOR}),
    Role.SERVICE: frozenset({Role.READER, Role.SERVICE}),
})

HEALTH_METHODS = frozenset({
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.health.v1.Health/List",
})
"""Callable without a token."""

REFLECTION_METHODS = frozenset({
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
})

_R, _O, _S = Role.READER, Role.OPERATOR, Role.SERVICE

_BY_SERVICE: dict[str, dict[str, Role]] = {
    "ferry.v1.ProfileService": {
        "ApplyProfile": _O,
        "GetProfile": _R,
        "ListProfiles": _R,
        "DeleteProfile": _O,
        "ValidateProfile": _O,
        "ListProfileEvents": _R,
    },
    "ferry.v1.ScheduleService": {
        "CreateSchedule": _O,
        "GetSchedule": _R,
        "ListSchedules": _R,
        "UpdateSchedule": _O,
        "DeleteSchedule": _O,
        "PauseSchedule": _O,
        "ResumeSchedule": _O,
        "PreviewSchedule": _R,
        "ListMissedFires": _R,
    },
    "ferry.v1.RunService": {
        "StartRun": _O,
        "GetRun": _R,
        "ListRuns": _R,
        "ListRunEvents": _R,
        "CancelRun": _O,
        "RetryRun": _O,
        "WatchRun": _R,
        "ListRejectedRows": _R,
        "GetRunSample": _R,
        "SummarizeRuns": _R,
        "CreateRunnerTask": _O,
        "GetRunnerTask": _R,
        "ListRunRecords": _R,
        "GetRecord": _R,
        "DiffRuns": _R,
        "RollbackRun": _O,
    },
    "ferry.v1.DispatchService": {
        "AcquireDueSchedules": _S,
        "ReleaseSchedule": _S,
        "CreateRun": _S,
        "ListRunsToPublish": _S,
        "MarkRunsPublished": _S,
        "StreamQueuedRuns": _S,
    },
    "ferry.v1.ExecutionService": {
        "ClaimRun": _S,
        "HeartbeatRun": _S,
        "ReportProgress": _S,
        "FinishRun": _S,
        "ReleaseRun": _S,
        "GetFreshnessToken": _S,
        "ClaimRunnerTask": _S,
        "CompleteRunnerTask": _S,
        "GetFailedFilePins": _S,
        "GetKeptRuns": _S,
    },
}

METHOD_ROLES: Mapping[str, Role] = MappingProxyType({
    **{f"/{service}/{method}": role
       for service, methods in _BY_SERVICE.items() for method, role in methods.items()},
    **{method: Role.READER for method in REFLECTION_METHODS},
})
"""Full gRPC method path (``/package.Service/Method``) -> the role it requires."""


def parse_role(text: str) -> Role:
    """``"operator"`` -> ``Role.OPERATOR``; ValueError naming the choices otherwise."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {text!r} (roles: {choices})") from None


def is_open(method: str) -> bool:
    """True for methods anyone may call without a token (health checking)."""
    return method in HEALTH_METHODS


def required_role(method: str) -> Role | None:
    """The role ``method`` requires, or None when no table names it."""
    return METHOD_ROLES.get(method)


def allows(role: Role, method: str) -> bool:
    """Whether a caller holding ``role`` may call ``method`` (closed by default)."""
    if is_open(method):
        return True
    needed = required_role(method)
    return needed is not None and needed in GRANTS[role]
