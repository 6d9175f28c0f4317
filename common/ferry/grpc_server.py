"""The shape every Ferry gRPC server shares.

``create_server`` binds (port 0 picks a free port), installs health checking
(grpc.health.v1) and reflection for the given services, and maps domain
errors to statuses. ``serve_until_signalled`` blocks until SIGTERM or SIGINT,
then marks health NOT_SERVING and stops with a grace period.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from ferry.grpc_errors import ErrorMappingInterceptor

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 16 * 1024 * 1024


@dataclass
class GrpcServer:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    service_names: list[str] = field(default_factory=list)

    def set_serving(self, serving: bool) -> None:
        status = (health_pb2.HealthCheckResponse.SERVING if serving
                  else health_pb2.HealthCheckResponse.NOT_SERVING)
        self.health.set("", status)
        for name in self.service_names:
            self.health.set(name, status)

    def stop(self, grace: float = 5.0) -> None:
        self.set_serving(False)
        self.server.stop(grace).wait()


def create_server(
    address: str,
    register: Callable[[grpc.Server], None],
    service_names: Sequence[str],
    *,
    max_workers: int = 32,
    interceptors: Sequence[grpc.ServerInterceptor] = (),
    credentials: grpc.ServerCredentials | None = None,
) -> GrpcServer:
    """Build and start a server on ``address`` (``host:0`` picks a free port)."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
        interceptors=[*interceptors, ErrorMappingInterceptor()],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ],
    )
    register(server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = list(service_names)
    reflection.enable_server_reflection(
        [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME], server)
    if credentials is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, credentials)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    server.start()
    wrapped = GrpcServer(server=server, port=port, health=health_servicer, service_names=names)
    wrapped.set_serving(True)
    return wrapped


def wait_for_stop_signal() -> str:
    """Block the main thread until SIGTERM or SIGINT; return the signal name."""
    received: list[str] = []
    stop = threading.Event()

    def handle(signum: int, _frame: object) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return received[0] if received else "unknown"


def serve_until_signalled(server: GrpcServer, *, grace: float = 5.0,
                          on_stop: Callable[[], None] | None = None) -> None:
    name = wait_for_stop_signal()
    log.info("received %s, stopping", name)
    server.set_serving(False)
    if on_stop is not None:
        on_stop()
    server.server.stop(grace).wait()
    log.info("stopped")
