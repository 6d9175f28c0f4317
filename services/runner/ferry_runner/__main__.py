"""``ferry-runner``: the composition root (the only place reading configuration)."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import grpc
from ferry.amqp.consumer import MessageConsumer
from ferry.amqp.topology import Topology
from ferry.config import ConfigError
from ferry.grpc_server import GrpcServer, create_server, port_in_use
from ferry.logs import configure_logging, set_redactor
from ferry.mask_key import load_mask_key
from ferry.metrics import METRICS, start_metrics_server
from ferry.secrets import SecretRedactor
from ferry.security.clients import ClientSecurity

from ferry_runner.config import RunnerConfig
from ferry_runner.execution import RunExecutor
from ferry_runner.freshness_gate import FreshnessGate
from ferry_runner.handler import RunRequestHandler
from ferry_runner.metrics import RunnerMetrics
from ferry_runner.registry import RunnerRegistry
from ferry_runner.sample_step import Sampler
from ferry_runner.shutdown import Shutdown
from ferry_runner.tasks import RunnerTaskHandler

log = logging.getLogger("ferry_runner")

CONSUMER_HEALTH = "ferry.runner.Consumer"
# Time the engine gets to reach a batch boundary after the grace period.
STOP_MARGIN_SECONDS = 15.0


def _masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + \
            (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _check_free(address: str) -> None:
    """Fail with one clear line (before gRPC logs its own) when the port is taken."""
    reason = port_in_use(address)
    if reason:
        raise OSError(f"FERRY_RUNNER_HEALTH={address}: {reason}")


def _start_health(config: RunnerConfig,
                  credentials: grpc.ServerCredentials | None = None) -> GrpcServer:
    _check_free(config.health_address)
    server = create_server(config.health_address, lambda _server: None, [CONSUMER_HEALTH],
                           max_workers=2, credentials=credentials)
    server.health.set(CONSUMER_HEALTH, 2)  # NOT_SERVING until the broker is connected
    server.health.set("", 2)  # NOT_SERVING until the signal handlers are installed
    return server


def run(config: RunnerConfig, security: ClientSecurity, mask_key: bytes | None = None) -> int:
    metrics = RunnerMetrics(METRICS)
    shutdown = Shutdown(config.shutdown_grace_seconds)
    health = _start_health(config, security.server_credentials())
    start_metrics_server(config.metrics_address)
    client = security.registry_client(config.registry)
    registry = RunnerRegistry(client, config.runner_id, config.lease_seconds,
                              stop_event=shutdown.stopping,
                              on_retry=lambda _notice: metrics.inc("registry_retries"))
    key = mask_key or load_mask_key(config.mask_key_ref, config.state_dir)
    executor = RunExecutor(registry, target_url=config.target_url,
                           heartbeat_interval=config.heartbeat_interval,
                           metrics=metrics, shutdown=shutdown,
                           gate=FreshnessGate(client.execution, config.target_url,
                                              config.file_roots),
                           file_roots=config.file_roots, limits=config.limits,
                           sampler=Sampler(Path(config.samples_dir), key,
                                           config.file_roots, config.limits),
                           mask_key=key)
    handler = RunRequestHandler(registry, executor, metrics, shutdown)
    topology = Topology(prefix=config.amqp_prefix)

    def connected(up: bool) -> None:
        health.health.set(CONSUMER_HEALTH, 1 if up else 2)
        if not up:
            metrics.inc("broker_reconnects")

    consumer = MessageConsumer(config.amqp_url, topology.run_queue, handler,
                               prefetch=config.prefetch, topology=topology,
                               client_name=f"ferry-runner {config.runner_id}",
                               on_connected=connected)
    # Runner tasks (validate a profile, read records back) on their own queue and connection, so
    # a short task never waits behind long runs.
    task_consumer = MessageConsumer(
        config.amqp_url, topology.runner_task_queue,
        RunnerTaskHandler(registry, metrics, target_url=config.target_url,
                          file_roots=config.file_roots, mask_key=key),
        prefetch=2, topology=topology, client_name=f"ferry-runner {config.runner_id} tasks")

    def on_signal() -> None:
        consumer.stop()
        task_consumer.stop()
        health.set_serving(False)

    shutdown.install_signal_handlers(on_signal)
    health.health.set("", 1)  # SERVING: a SIGTERM from now on is a clean stop
    log.info("runner %s started", config.runner_id, extra={"fields": {
        "registry": config.registry, "amqp_url": _masked(config.amqp_url),
        "queue": topology.run_queue, "prefetch": config.prefetch,
        "lease_s": config.lease_seconds, "health": f"{config.health_address}->{health.port}",
        "target_url": _masked(config.target_url), "registry_security": security.describe,
        "samples_dir": config.samples_dir,
        "mask_key": config.mask_key_ref or f"{Path(config.state_dir) / 'mask.key'}",
        "file_roots": ":".join(map(str, config.file_roots)) if config.file_roots is not None
        else "unset (file sources are not confined)"}})
    thread = threading.Thread(target=consumer.run, name="amqp")
    thread.start()
    task_thread = threading.Thread(target=task_consumer.run, name="amqp-tasks", daemon=True)
    task_thread.start()
    while thread.is_alive():
        thread.join(0.25)
        if shutdown.stopping.is_set() and shutdown.remaining() <= 0 and consumer.busy:
            shutdown.expire()
            if not consumer.wait_idle(STOP_MARGIN_SECONDS):
                log.error("a run did not stop within %.0fs after the grace period; exiting "
                          "anyway (its lease expires and it is retried)", STOP_MARGIN_SECONDS)
                break
    task_thread.join(5.0)
    health.stop(grace=1.0)
    log.info("runner stopped", extra={"fields": {"metrics": metrics.snapshot()}})
    if thread.is_alive():
        logging.shutdown()
        os._exit(0)
    client.close()
    return 0


def main() -> None:
    redactor = SecretRedactor()
    try:
        config = RunnerConfig.from_env()
        security = ClientSecurity.from_env(redactor=redactor)
        security.server_credentials()  # unreadable certificate files fail here
        mask_key = load_mask_key(config.mask_key_ref, config.state_dir)
    except ConfigError as exc:
        print(f"ferry-runner: configuration error: {exc}", file=sys.stderr)
        sys.exit(1)
    redactor.add(mask_key.decode("utf-8", "replace"))
    for url in (config.amqp_url, config.target_url):
        password = urlsplit(url).password
        if password:
            redactor.add(password)
            redactor.add(unquote(password))
    set_redactor(redactor)
    configure_logging("runner", fmt=config.log_format, level=config.log_level)
    try:
        code = run(config, security, mask_key)
    except (OSError, RuntimeError) as exc:
        print(f"ferry-runner: cannot start: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(code)


if __name__ == "__main__":
    main()
