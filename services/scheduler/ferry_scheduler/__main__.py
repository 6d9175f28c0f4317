"""``ferry-scheduler``: the composition root (the only place reading config)."""

from __future__ import annotations

import logging
import sys
from urllib.parse import unquote, urlsplit

from ferry.config import ConfigError
from ferry.grpc_server import (
    GrpcServer,
    StopSignal,
    create_server,
    port_in_use,
    wait_for_stop_signal,
)
from ferry.logs import configure_logging, set_redactor
from ferry.metrics import metrics_address_from_env, start_metrics_server
from ferry.secrets import SecretRedactor
from ferry.security.clients import ClientSecurity

from ferry_scheduler.config import SchedulerConfig
from ferry_scheduler.service import SchedulerService

log = logging.getLogger("ferry_scheduler")


def check_free(address: str) -> None:
    """Raise OSError (before gRPC logs its own lines) when the port is taken."""
    reason = port_in_use(address)
    if reason:
        raise OSError(reason)


def main() -> int:
    redactor = SecretRedactor()
    try:
        config = SchedulerConfig.from_env()
        metrics_address = metrics_address_from_env()
        security = ClientSecurity.from_env(redactor=redactor)
        health_credentials = security.server_credentials()
    except ConfigError as exc:
        print(f"ferry-scheduler: configuration error: {exc}", file=sys.stderr)
        return 1
    password = urlsplit(config.amqp_url).password
    if password:
        redactor.add(unquote(password))
        redactor.add(password)
    set_redactor(redactor)
    configure_logging("scheduler", fmt=config.log_format, level=config.log_level)
    if config.log_level != "debug":
        # pika logs every refused connection attempt at ERROR; the publisher
        # logs one line per failed publish instead.
        logging.getLogger("pika").setLevel(logging.CRITICAL)
    stop_signal = StopSignal().install()
    health: GrpcServer | None = None
    if config.health_address is not None:
        try:
            check_free(config.health_address)
            health = create_server(config.health_address, lambda _server: None, [],
                                   credentials=health_credentials)
        except (OSError, RuntimeError) as exc:
            print(f"ferry-scheduler: cannot serve gRPC health on {config.health_address}: "
                  f"{exc}", file=sys.stderr)
            return 1
        log.info("gRPC health on port %d", health.port)
    try:
        start_metrics_server(metrics_address)
    except OSError as exc:
        print(f"ferry-scheduler: cannot serve metrics: {exc}", file=sys.stderr)
        return 1
    log.info("registry %s (%s)", config.registry, security.describe)
    service = SchedulerService(config, client=security.registry_client(config.registry))
    service.start()
    try:
        name = wait_for_stop_signal(stop_signal)
        log.info("received %s, stopping", name)
    finally:
        if health is not None:
            health.set_serving(False)
        service.stop()
        if health is not None:
            health.stop(grace=1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
