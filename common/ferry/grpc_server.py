"""The shape every Ferry gRPC server shares.

``create_server`` binds (port 0 picks a free port), installs health checking
(grpc.health.v1) and reflection for the given services, and maps domain
errors to statuses. ``StopSignal`` catches SIGTERM/SIGINT from start-up on;
services then mark health NOT_SERVING and stop with a grace period.
"""

from __future__ import annotations

import logging
import signal
import socket
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


def port_in_use(address: str) -> str | None:
    """Why ``host:port`` cannot be bound (``None`` when it can, or for port 0).

    Checked before gRPC tries, so a service's one-line start-up error is not
    preceded by gRPC's own log lines. Like gRPC, a port in TIME_WAIT is free."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    if not port.isdigit() or int(port) == 0:
        return None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, int(port)))
    except OSError as exc:
        return str(exc.strerror or exc)
    return None


class StopSignal:
    """SIGTERM/SIGINT caught from the moment ``install`` is called, so a signal
    that arrives while a service is still starting is a clean stop, not a kill."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._received: list[str] = []
        self._previous: dict[int, object] = {}

    def install(self) -> StopSignal:
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, _frame: object) -> None:
        self._received.append(signal.Signals(signum).name)
        self._event.set()

    def wait(self) -> str:
        """Block until a stop signal came; restore the previous handlers; return its name."""
        try:
            # A timed wait, again and again: a signal the kernel delivered to
            # another thread leaves an untimed wait blocked in the main thread,
            # where Python runs signal handlers; this wakes to run them.
            while not self._event.wait(0.2):
                pass
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)  # type: ignore[arg-type]
        return self._received[0] if self._received else "unknown"


def wait_for_stop_signal(stop: StopSignal | None = None) -> str:
    """Block the main thread until SIGTERM or SIGINT; return the signal name.

    Pass a ``StopSignal`` installed at start-up to also catch signals that
    arrived before this call."""
    return (stop or StopSignal().install()).wait()
