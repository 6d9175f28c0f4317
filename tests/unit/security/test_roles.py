"""The method -> role table covers every method of the five Ferry services."""

from __future__ import annotations

import pytest
from ferry.security.roles import (
    HEALTH_METHODS,
    METHOD_ROLES,
    REFLECTION_METHODS,
    Role,
    allows,
    required_role,
)
from ferry.v1 import (
    dispatch_service_pb2,
    execution_service_pb2,
    profile_service_pb2,
    run_service_pb2,
    schedule_service_pb2,
)

MODULES = (profile_service_pb2, schedule_service_pb2, run_service_pb2, dispatch_service_pb2,
           execution_service_pb2)
INTERNAL = {"ferry.v1.DispatchService", "ferry.v1.ExecutionService"}


def _methods() -> list[tuple[str, str, object]]:
    found = []
    for module in MODULES:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                found.append((service.full_name, f"/{service.full_name}/{method.name}", method))
    return found


def test_the_five_services_are_walked() -> None:
    services = {service for service, _, _ in _methods()}
    assert services == {"ferry.v1.ProfileService", "ferry.v1.ScheduleService",
                        "ferry.v1.RunService", *INTERNAL}


def test_every_method_has_a_role() -> None:
    missing = [path for _, path, _ in _methods() if path not in METHOD_ROLES]
    assert missing == [], f"methods without a role in ferry.security.roles: {missing}"


def test_the_table_names_no_method_that_does_not_exist() -> None:
    known = {path for _, path, _ in _methods()} | REFLECTION_METHODS
    assert set(METHOD_ROLES) - known == set()


def test_internal_services_need_the_service_role_and_public_ones_never_do() -> None:
    for service, path, _ in _methods():
        if service in INTERNAL:
            assert METHOD_ROLES[path] is Role.SERVICE, path
        else:
            assert METHOD_ROLES[path] in (Role.READER, Role.OPERATOR), path


READ_PREFIXES = ("Get", "List", "Watch", "Preview", "Summarize", "Diff")


def test_public_reads_need_reader_and_everything_else_operator() -> None:
    for service, path, method in _methods():
        if service in INTERNAL:
            continue
        expected = Role.READER if method.name.startswith(READ_PREFIXES) else Role.OPERATOR
        assert METHOD_ROLES[path] is expected, path


@pytest.mark.parametrize(("role", "method", "allowed"), [
    (Role.READER, "/ferry.v1.RunService/ListRuns", True),
    (Role.READER, "/ferry.v1.RunService/WatchRun", True),
    (Role.READER, "/ferry.v1.ScheduleService/ListMissedFires", True),
    (Role.READER, "/ferry.v1.RunService/ListRejectedRows", True),
    (Role.READER, "/ferry.v1.RunService/StartRun", False),
    (Role.READER, "/ferry.v1.ProfileService/ValidateProfile", False),
    (Role.READER, "/ferry.v1.ExecutionService/ClaimRun", False),
    (Role.OPERATOR, "/ferry.v1.ProfileService/ApplyProfile", True),
    (Role.OPERATOR, "/ferry.v1.ScheduleService/PauseSchedule", True),
    (Role.OPERATOR, "/ferry.v1.RunService/GetRun", True),
    (Role.OPERATOR, "/ferry.v1.DispatchService/CreateRun", False),
    (Role.SERVICE, "/ferry.v1.DispatchService/AcquireDueSchedules", True),
    (Role.SERVICE, "/ferry.v1.ExecutionService/FinishRun", True),
    (Role.SERVICE, "/ferry.v1.ProfileService/GetProfile", True),
    (Role.SERVICE, "/ferry.v1.RunService/RetryRun", False),
    (Role.SERVICE, "/ferry.v1.ProfileService/DeleteProfile", False),
])
def test_allows(role: Role, method: str, allowed: bool) -> None:
    assert allows(role, method) is allowed


def test_unknown_methods_are_closed_and_health_is_open() -> None:
    assert required_role("/ferry.v1.RunService/DropEverything") is None
    assert not any(allows(role, "/ferry.v1.RunService/DropEverything") for role in Role)
    for method in HEALTH_METHODS:
        assert all(allows(role, method) for role in Role)
    for method in REFLECTION_METHODS:
        assert [r for r in Role if allows(r, method)] == list(Role)


def test_the_method_table_in_docs_matches_the_code() -> None:
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "security.md").read_text()
    rows = dict(re.findall(r"^\| `(/[\w.]+/\w+)` \| (\w+)", doc, flags=re.MULTILINE))
    assert {m: rows.pop(m) for m in HEALTH_METHODS} == dict.fromkeys(HEALTH_METHODS, "none")
    assert rows == {method: role.value for method, role in METHOD_ROLES.items()}
