"""Clients of the registry's gRPC API, with a deadline on every call.

``RegistryClient(address)`` opens one channel and exposes the service stubs;
calls without an explicit ``timeout`` get the client's default deadline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ferry.grpc_server import MAX_MESSAGE_BYTES
from ferry.v1 import (
    dispatch_service_pb2_grpc,
    execution_service_pb2_grpc,
    profile_service_pb2_grpc,
    run_service_pb2_grpc,
    schedule_service_pb2_grpc,
)


def is_serving(address: str, service: str = "", timeout: float = 0.5,
               credentials: grpc.ChannelCredentials | None = None) -> bool:
    """Whether the gRPC server at ``address`` reports ``service`` ("": the
    whole server) SERVING to a health check; plaintext unless ``credentials``."""
    channel = (grpc.secure_channel(address, credentials) if credentials is not None
               else grpc.insecure_channel(address))
    try:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        return reply.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False
    finally:
        channel.close()


def all_pages(call: Any, request: Any, field: str) -> Iterator[Any]:
    """Every item of a List call (AIP-158): ``call(request)`` page after page,
    yielding the items of the reply's ``field``, until no next page token."""
    while True:
        reply = call(request)
        items = getattr(reply, field)
        yield from items
        if not reply.next_page_token or not items:
            return
        request.page_token = reply.next_page_token


class _CallDetails(grpc.ClientCallDetails):
    def __init__(self, base: grpc.ClientCallDetails, timeout: float | None) -> None:
        self.method = base.method
        self.timeout = timeout
        self.metadata = base.metadata
        self.credentials = base.credentials
        self.wait_for_ready = base.wait_for_ready
        self.compression = getattr(base, "compression", None)


class DefaultDeadlineInterceptor(grpc.UnaryUnaryClientInterceptor,
                                 grpc.UnaryStreamClientInterceptor):
    """Gives unary calls a deadline when the caller did not pass one."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout

    def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        if client_call_details.timeout is None:
            client_call_details = _CallDetails(client_call_details, self._timeout)
        return continuation(client_call_details, request)

    def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        # Streams (watch) run as long as the caller wants; no default deadline.
        return continuation(client_call_details, request)


def open_channel(address: str, *, timeout: float = 10.0,
                 credentials: grpc.ChannelCredentials | None = None,
                 interceptors: list[Any] | None = None,
                 extra_options: list[tuple[str, Any]] | None = None) -> grpc.Channel:
    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.enable_retries", 1),
        ("grpc.keepalive_time_ms", 30_000),
        *(extra_options or []),
    ]
    if credentials is None:
        channel = grpc.insecure_channel(address, options=options)
    else:
        channel = grpc.secure_channel(address, credentials, options=options)
    return grpc.intercept_channel(channel, *(interceptors or []),
                                  DefaultDeadlineInterceptor(timeout))


class RegistryClient:
    """Stubs for every registry service over one channel."""

    def __init__(self, address: str, timeout: float = 10.0,
                 credentials: grpc.ChannelCredentials | None = None,
                 interceptors: list[Any] | None = None,
                 extra_options: list[tuple[str, Any]] | None = None) -> None:
        self.address = address
        self.timeout = timeout
        self.channel = open_channel(address, timeout=timeout, credentials=credentials,
                                    interceptors=interceptors, extra_options=extra_options)
        self.profiles = profile_service_pb2_grpc.ProfileServiceStub(self.channel)
        self.schedules = schedule_service_pb2_grpc.ScheduleServiceStub(self.channel)
        self.runs = run_service_pb2_grpc.RunServiceStub(self.channel)
        self.dispatch = dispatch_service_pb2_grpc.DispatchServiceStub(self.channel)
        self.execution = execution_service_pb2_grpc.ExecutionServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
