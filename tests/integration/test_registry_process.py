"""The real ``ferry-registry`` process: health, reflection, SIGTERM, start-up errors."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import grpc
import pytest
from ferry.grpc_client import RegistryClient, is_serving
from ferry.v1 import profile_pb2, profile_service_pb2, run_service_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.support.processes import BIN, base_env, registry_process

SERVICES = {"ferry.v1.ProfileService", "ferry.v1.ScheduleService", "ferry.v1.RunService",
            "ferry.v1.DispatchService", "ferry.v1.ExecutionService"}


def _profile() -> profile_pb2.Profile:
    return profile_pb2.Profile(
        name="stock", entity_type="products", operation=profile_pb2.OPERATION_IMPORT,
        source=profile_pb2.Source(kind=profile_pb2.SOURCE_KIND_FILE, location="/data/s.csv"),
        mapping=profile_pb2.Mapping(fields=[
            profile_pb2.FieldMapping(target="sku", source="SKU"),
            profile_pb2.FieldMapping(target="name", source="Name")]))


def _listed_services(address: str) -> set[str]:
    with grpc.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        for reply in stub.ServerReflectionInfo(iter([request]), timeout=5):
            return {s.name for s in reply.list_services_response.service}
    return set()


def test_serves_health_and_reflection_and_stops_on_sigterm(registry):
    assert is_serving(registry.address)
    for service in SERVICES:
        assert is_serving(registry.address, service), service
    assert SERVICES <= _listed_services(registry.address)
    with RegistryClient(registry.address) as client:
        client.profiles.ApplyProfile(profile_service_pb2.ApplyProfileRequest(profile=_profile()))
        run = client.runs.StartRun(run_service_pb2.StartRunRequest(profile="stock")).run
        assert run.id
    started = time.monotonic()
    registry.signal(signal.SIGTERM)
    assert registry.process is not None
    assert registry.process.wait(timeout=10) == 0
    assert time.monotonic() - started < 8
    assert "Traceback" not in registry.output()


def test_sigterm_ends_open_watch_streams_promptly(registry):
    with RegistryClient(registry.address) as client:
        client.profiles.ApplyProfile(profile_service_pb2.ApplyProfileRequest(profile=_profile()))
        run = client.runs.StartRun(run_service_pb2.StartRunRequest(profile="stock")).run
        stream = client.runs.WatchRun(run_service_pb2.WatchRunRequest(id=run.id), timeout=30)
        assert next(stream).run.id == run.id
        started = time.monotonic()
        registry.signal(signal.SIGTERM)
        assert registry.process is not None
        assert registry.process.wait(timeout=10) == 0
        assert time.monotonic() - started < 4


def _run_registry(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    defaults = {"FERRY_REGISTRY": "127.0.0.1:0", "FERRY_STATE_DIR": str(tmp_path / "state")}
    return subprocess.run([str(BIN / "ferry-registry")], env=base_env(**{**defaults, **env}),
                          capture_output=True, text=True, timeout=60)


def _plain_lines(stderr: str) -> list[str]:
    """stderr without the JSON log lines (start-up notices such as "auth is off")."""
    lines = []
    for line in stderr.strip().splitlines():
        try:
            json.loads(line)
        except ValueError:
            lines.append(line)
    return lines


def test_unreachable_database_gives_one_line_and_exit_1(tmp_path):
    result = _run_registry(tmp_path,
                           FERRY_DATABASE_URL="postgresql+psycopg://ferry@127.0.0.1:1/ferry")
    assert result.returncode == 1
    lines = _plain_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ferry-registry: error: cannot open the database")
    assert "Traceback" not in result.stderr


def test_bad_config_and_port_in_use_give_one_line_and_exit_1(tmp_path):
    bad = _run_registry(tmp_path, FERRY_DEFAULT_MAX_ATTEMPTS="lots")
    assert bad.returncode == 1
    assert _plain_lines(bad.stderr) == [
        "ferry-registry: error: FERRY_DEFAULT_MAX_ATTEMPTS='lots' is not an integer"]
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        busy = _run_registry(tmp_path, FERRY_REGISTRY=f"127.0.0.1:{port}")
    assert busy.returncode == 1
    lines = _plain_lines(busy.stderr)
    assert len(lines) == 1 and "cannot listen on" in lines[0], busy.stderr


@pytest.mark.postgres
def test_runs_on_postgresql(tmp_path, postgres_url):
    proc = registry_process(tmp_path, database_url=postgres_url).start()
    try:
        with RegistryClient(proc.address) as client:
            client.profiles.ApplyProfile(profile_service_pb2.ApplyProfileRequest(
                profile=_profile()))
            run = client.runs.StartRun(run_service_pb2.StartRunRequest(profile="stock")).run
            listed = client.runs.ListRuns(run_service_pb2.ListRunsRequest()).runs
            assert [r.id for r in listed] == [run.id]
    finally:
        code = proc.stop()
        assert code == 0, proc.output()[-3000:]
    # A second start on the migrated database works (migrations are idempotent).
    again = registry_process(tmp_path, database_url=postgres_url).start()
    try:
        with RegistryClient(again.address) as client:
            assert len(client.runs.ListRuns(run_service_pb2.ListRunsRequest()).runs) == 1
    finally:
        code = again.stop()
        assert code == 0, again.output()[-3000:]


def test_bearer_tokens_guard_the_api_but_not_health(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("ops:operator:0123456789abcdefOPS\n")
    proc = registry_process(tmp_path, FERRY_AUTH_TOKENS=f"file:{tokens}").start()
    try:
        assert is_serving(proc.address)
        with RegistryClient(proc.address) as anonymous:
            with pytest.raises(grpc.RpcError) as caught:
                anonymous.runs.ListRuns(run_service_pb2.ListRunsRequest())
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with grpc.insecure_channel(proc.address) as channel:
            from ferry.v1 import run_service_pb2_grpc

            stub = run_service_pb2_grpc.RunServiceStub(channel)
            reply = stub.ListRuns(run_service_pb2.ListRunsRequest(), timeout=5,
                                  metadata=[("authorization", "Bearer 0123456789abcdefOPS")])
            assert list(reply.runs) == []
    finally:
        code = proc.stop()
        assert code == 0, proc.output()[-3000:]


def test_restarts_on_the_same_port_and_keeps_its_data(registry):
    with RegistryClient(registry.address) as client:
        client.profiles.ApplyProfile(profile_service_pb2.ApplyProfileRequest(profile=_profile()))
        run = client.runs.StartRun(run_service_pb2.StartRunRequest(profile="stock")).run
    code = registry.stop()
    assert code == 0, registry.output()[-3000:]
    registry.start()  # the port may be in TIME_WAIT: still free to listen on
    with RegistryClient(registry.address) as client:
        again = client.runs.GetRun(run_service_pb2.GetRunRequest(id=run.id)).run
        assert again.status == run.status
