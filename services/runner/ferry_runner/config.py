"""The runner's configuration, read once from ``FERRY_*`` variables.

| Variable | Default | Meaning |
|---|---|---|
| ``FERRY_REGISTRY`` | ``127.0.0.1:50051`` | registry gRPC address |
| ``FERRY_AMQP_URL`` | ``amqp://guest:guest@127.0.0.1:5672/%2F`` | RabbitMQ URL |
| ``FERRY_AMQP_PREFIX`` | ``ferry`` | prefix of every queue and exchange name |
| ``FERRY_RUNNER_ID`` | ``<hostname>-<pid>`` | identity written on claims and runs |
| ``FERRY_RUNNER_PREFETCH`` | ``1`` | runs executed at the same time (1-64) |
| ``FERRY_RUN_LEASE`` | ``30s`` | lease per claim; heartbeats every lease/3 |
| ``FERRY_SHUTDOWN_GRACE`` | ``20s`` | time a run may take to finish after SIGTERM |
| ``FERRY_STATE_DIR`` | ``.ferry`` | local state (default target database) |
| ``FERRY_TARGET_URL`` | ``sqlite:///<FERRY_STATE_DIR>/target.db`` | default target store |
| ``FERRY_RUNNER_HEALTH`` | ``127.0.0.1:0`` | gRPC health address (port 0 picks a free one) |
| ``FERRY_METRICS_ADDRESS`` | empty (off) | Prometheus ``/metrics`` address, e.g. ``0.0.0.0:9464`` |
| ``FERRY_LOG_FORMAT`` | ``json`` | ``json`` or ``human`` |
| ``FERRY_LOG_LEVEL`` | ``info`` | ``debug``, ``info``, ``warning``, ``error`` |
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ferry.config import ConfigError, Env
from ferry.metrics import metrics_address_from_env

DEFAULT_HEALTH_ADDRESS = "127.0.0.1:0"


@dataclass(frozen=True)
class RunnerConfig:
    registry: str = "127.0.0.1:50051"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    amqp_prefix: str = "ferry"
    runner_id: str = ""
    prefetch: int = 1
    lease_seconds: float = 30.0
    shutdown_grace_seconds: float = 20.0
    state_dir: str = ".ferry"
    target_url: str = ""
    health_address: str = DEFAULT_HEALTH_ADDRESS
    metrics_address: str = ""
    log_format: str = "json"
    log_level: str = "info"

    @property
    def heartbeat_interval(self) -> float:
        return self.lease_seconds / 3

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RunnerConfig:
        env = Env(environ)
        state_dir = env.str("FERRY_STATE_DIR", ".ferry")
        lease = env.duration("FERRY_RUN_LEASE", "30s").total_seconds()
        if lease < 1:
            raise ConfigError(f"FERRY_RUN_LEASE={lease:g}s is below the minimum 1s")
        grace = env.duration("FERRY_SHUTDOWN_GRACE", "20s").total_seconds()
        registry = env.str("FERRY_REGISTRY", cls.registry)
        health = env.str("FERRY_RUNNER_HEALTH", DEFAULT_HEALTH_ADDRESS)
        for name, address in (("FERRY_REGISTRY", registry), ("FERRY_RUNNER_HEALTH", health)):
            if ":" not in address:
                raise ConfigError(f"{name}={address!r} must be host:port")
        amqp_url = env.str("FERRY_AMQP_URL", cls.amqp_url)
        if not amqp_url.startswith(("amqp://", "amqps://")):
            raise ConfigError("FERRY_AMQP_URL must start with amqp:// or amqps://")
        target = env.str("FERRY_TARGET_URL", "") or \
            f"sqlite:///{Path(state_dir).absolute() / 'target.db'}"
        return cls(
            registry=registry,
            amqp_url=amqp_url,
            amqp_prefix=env.str("FERRY_AMQP_PREFIX", "ferry"),
            runner_id=env.str("FERRY_RUNNER_ID", f"{socket.gethostname()}-{os.getpid()}"),
            prefetch=env.int("FERRY_RUNNER_PREFETCH", 1, minimum=1, maximum=64),
            lease_seconds=lease,
            shutdown_grace_seconds=grace,
            state_dir=state_dir,
            target_url=target,
            health_address=health,
            metrics_address=metrics_address_from_env(env),
            log_format=env.choice("FERRY_LOG_FORMAT", "json", ("json", "human")),
            log_level=env.choice("FERRY_LOG_LEVEL", "info",
                                 ("debug", "info", "warning", "error")),
        )
