"""Hostile input against real processes (invariant 8: services keep serving).

- a runner gets runs of several hostile files (a gzip bomb, a 100 MB line,
  JSON nested 10,000 deep, binary data, a FIFO, an XML entity bomb): each run
  FAILS with error class PERMANENT and a clear message, the source file is
  kept, the runner process is the same one and a following good run
  completes;
- the registry answers malformed gRPC requests (a message over 16 MB,
  corrupt or wrongly typed bytes, a huge page_size, absurd and 1 MB filters,
  a 1 MB profile name) with INVALID_ARGUMENT / RESOURCE_EXHAUSTED (NOT_FOUND
  for a lookup of a name that cannot exist), with short messages, and keeps
  serving.

Malformed AMQP messages are covered by test_poison_message.py.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2, profile_service_pb2, run_pb2, run_service_pb2

from tests.faults import hostile_files as hf
from tests.integration.runner import stack
from tests.support.processes import ServiceProcess

HOSTILE = ["gzip_bomb", "single_line_100mb", "json_deep", "binary_garbage", "fifo",
           "xml_billion_laughs", "zip_bomb"]


@pytest.mark.rabbitmq
def test_runner_survives_hostile_files_and_keeps_serving(
        tmp_path: Path, registry: ServiceProcess, queues: stack.Queues) -> None:
    runner = stack.runner_process(tmp_path, registry.address, queues, FERRY_RUN_LEASE="5s")
    scheduler = stack.scheduler_process(tmp_path, registry.address, queues)
    files = tmp_path / "files"
    files.mkdir()
    try:
        runner.start()
        scheduler.start()
        pid = runner.pid
        alive = stack.assert_alive(runner, scheduler, registry)
        with RegistryClient(registry.address) as client:
            runs: dict[str, tuple[run_pb2.Run, Path]] = {}
            for case in HOSTILE:
                path, kind, options = hf.GENERATORS[case](files)
                profile = hf.profile_for(f"hostile-{case}", path, kind, options)
                profile.retry.max_attempts = 1
                stack.apply_profile(client, profile)
                runs[case] = (stack.start_run(client, f"hostile-{case}"), path)
            for case, (run, path) in runs.items():
                done = stack.wait_terminal(client, run.id, 90, alive)
                assert stack.status_name(done) == "RUN_STATUS_FAILED", (case, done)
                assert done.error_class == run_pb2.ERROR_CLASS_PERMANENT, (case, done)
                assert done.error_message and len(done.error_message) < 2000, (case, done)
                assert path.exists() or path.is_fifo(), f"{case}: the failed source is kept"
            good_path, kind, options = hf.good_csv(files, 20)
            stack.apply_profile(client, hf.profile_for("after-the-storm", good_path, kind,
                                                       options))
            good = stack.wait_terminal(client, stack.start_run(client, "after-the-storm").id,
                                       60, alive)
            assert stack.status_name(good) == "RUN_STATUS_COMPLETED", good
            assert good.counts.created == 20
        assert runner.alive() and runner.pid == pid
        assert "Traceback" not in runner.output(), runner.output()[-3000:]
    finally:
        scheduler.stop()
        runner.stop()


def _raw(channel: grpc.Channel, method: str):  # type: ignore[no-untyped-def]
    return channel.unary_unary(method, request_serializer=None, response_deserializer=None)


def _code(call) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    try:
        call()
    except grpc.RpcError as exc:
        return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


def test_registry_refuses_malformed_requests_and_keeps_serving(registry: ServiceProcess) -> None:
    big = 1 << 20
    channel = grpc.insecure_channel(registry.address,
                                    options=[("grpc.max_send_message_length", 64 << 20)])
    client = RegistryClient(registry.address)
    try:
        cases = {
            "oversized": (lambda: _raw(channel, "/ferry.v1.ProfileService/ApplyProfile")(
                b"\x0a\xff\xff\xff\x08" + b"x" * (17 << 20), timeout=20),
                {grpc.StatusCode.RESOURCE_EXHAUSTED}),
            "corrupt bytes": (lambda: _raw(channel, "/ferry.v1.RunService/GetRun")(
                b"\xff\xff\xff\xff\x0f\x01", timeout=5), {grpc.StatusCode.INVALID_ARGUMENT}),
            "wrong wire type": (lambda: _raw(channel, "/ferry.v1.RunService/GetRun")(
                b"\x08\x96\x01", timeout=5), {grpc.StatusCode.INVALID_ARGUMENT}),
            "truncated message": (lambda: _raw(channel, "/ferry.v1.ProfileService/ApplyProfile")(
                b"\x0a\x80\x01abc", timeout=5), {grpc.StatusCode.INVALID_ARGUMENT}),
            "negative page_size": (lambda: client.runs.ListRuns(
                run_service_pb2.ListRunsRequest(page_size=-1)),
                {grpc.StatusCode.INVALID_ARGUMENT}),
            "absurd filter": (lambda: client.runs.ListRuns(run_service_pb2.ListRunsRequest(
                filter="((((status = = '\x00 AND OR )")), {grpc.StatusCode.INVALID_ARGUMENT}),
            "1 MB filter": (lambda: client.runs.ListRuns(run_service_pb2.ListRunsRequest(
                filter="status=" + "x" * big)), {grpc.StatusCode.INVALID_ARGUMENT}),
            "1 MB page token": (lambda: client.runs.ListRuns(run_service_pb2.ListRunsRequest(
                page_token="t" * big)), {grpc.StatusCode.INVALID_ARGUMENT}),
            "1 MB profile name (apply)": (lambda: client.profiles.ApplyProfile(
                profile_service_pb2.ApplyProfileRequest(profile=profile_pb2.Profile(
                    name="p" * big, entity_type="products"))),
                {grpc.StatusCode.INVALID_ARGUMENT}),
            "1 MB profile name (get)": (lambda: client.profiles.GetProfile(
                profile_service_pb2.GetProfileRequest(name="p" * big)),
                {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND}),
            "1 MB profile name (start)": (lambda: client.runs.StartRun(
                run_service_pb2.StartRunRequest(profile="p" * big, request_id="r1")),
                {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND}),
        }
        for name, (call, expected) in cases.items():
            code, details = _code(call)
            assert code in expected, (name, code, details[:300])
            assert len(details) < 2000, (name, len(details))  # the input is not echoed whole
            assert registry.alive(), registry.output()[-3000:]
        # A huge page_size is coerced to the maximum, not refused.
        reply = client.runs.ListRuns(run_service_pb2.ListRunsRequest(page_size=2**31 - 1))
        assert reply is not None
        # Still serving normal calls, and no traceback for a client's mistake.
        assert list(client.profiles.ListProfiles(
            profile_service_pb2.ListProfilesRequest()).profiles) == []
        assert "Exception deserializing" not in registry.output()
    finally:
        client.close()
        channel.close()
