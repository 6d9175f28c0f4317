"""The scheduler's configuration, read once from ``FERRY_*`` variables.

| Variable | Default | Meaning |
|---|---|---|
| ``FERRY_REGISTRY`` | ``127.0.0.1:50051`` | registry gRPC address |
| ``FERRY_AMQP_URL`` | ``amqp://guest:guest@127.0.0.1:5672/%2F`` | RabbitMQ URL |
| ``FERRY_AMQP_PREFIX`` | ``ferry`` | prefix of every queue and exchange name |
| ``FERRY_SCHEDULER_ID`` | ``<hostname>-<pid>`` | lease owner name; unique per replica |
| ``FERRY_SCHEDULER_HEALTH`` | ``off`` | gRPC health listen address (``host:port``), or ``off`` |
| ``FERRY_SCHEDULER_POLL_INTERVAL`` | ``1s`` | how often due schedules are acquired |
| ``FERRY_SCHEDULE_LEASE`` | ``30s`` | lease taken on each acquired schedule |
| ``FERRY_SCHEDULER_BATCH`` | ``100`` | schedules acquired per pass |
| ``FERRY_SCHEDULER_PUBLISHERS`` | ``4`` | parallel publishers (AMQP connections) for pushed runs |
| ``FERRY_OUTBOX_SWEEP_INTERVAL`` | ``5s`` | how often unpublished/unclaimed runs are re-published |
| ``FERRY_REPUBLISH_AFTER`` | ``30s`` | a published run still unclaimed after this is re-published |
| ``FERRY_LOG_FORMAT`` | ``json`` | ``json`` or ``human`` |
| ``FERRY_LOG_LEVEL`` | ``info`` | ``debug``, ``info``, ``warning``, ``error`` |
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from ferry.config import ConfigError, Env
from ferry_domain.leases import MAX_LEASE, MIN_LEASE

DEFAULT_REGISTRY = "127.0.0.1:50051"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
_OFF = {"", "off", "none", "false", "0"}


@dataclass(frozen=True)
class SchedulerConfig:
    registry: str = DEFAULT_REGISTRY
    amqp_url: str = DEFAULT_AMQP_URL
    amqp_prefix: str = "ferry"
    scheduler_id: str = "scheduler"
    health_address: str | None = None
    poll_interval: timedelta = timedelta(seconds=1)
    schedule_lease: timedelta = timedelta(seconds=30)
    batch_size: int = 100
    stream_publishers: int = 4
    outbox_sweep_interval: timedelta = timedelta(seconds=5)
    republish_after: timedelta = timedelta(seconds=30)
    log_format: str = "json"
    log_level: str = "info"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SchedulerConfig:
        env = Env(environ)
        health = env.str("FERRY_SCHEDULER_HEALTH", "off").strip()
        config = cls(
            registry=env.str("FERRY_REGISTRY", DEFAULT_REGISTRY),
            amqp_url=env.str("FERRY_AMQP_URL", DEFAULT_AMQP_URL),
            amqp_prefix=env.str("FERRY_AMQP_PREFIX", "ferry"),
            scheduler_id=env.str("FERRY_SCHEDULER_ID", f"{socket.gethostname()}-{os.getpid()}"),
            health_address=None if health.lower() in _OFF else health,
            poll_interval=env.duration("FERRY_SCHEDULER_POLL_INTERVAL", "1s"),
            schedule_lease=env.duration("FERRY_SCHEDULE_LEASE", "30s"),
            batch_size=env.int("FERRY_SCHEDULER_BATCH", 100, minimum=1, maximum=1000),
            stream_publishers=env.int("FERRY_SCHEDULER_PUBLISHERS", 4, minimum=1, maximum=32),
            outbox_sweep_interval=env.duration("FERRY_OUTBOX_SWEEP_INTERVAL", "5s"),
            republish_after=env.duration("FERRY_REPUBLISH_AFTER", "30s"),
            log_format=env.choice("FERRY_LOG_FORMAT", "json", ("json", "human")),
            log_level=env.choice("FERRY_LOG_LEVEL", "info",
                                 ("debug", "info", "warning", "error")),
        )
        config.check()
        return config

    def check(self) -> None:
        if self.poll_interval <= timedelta(0):
            raise ConfigError("FERRY_SCHEDULER_POLL_INTERVAL must be positive")
        if not MIN_LEASE <= self.schedule_lease <= MAX_LEASE:
            raise ConfigError("FERRY_SCHEDULE_LEASE must be from 1s to 1h")
        if self.schedule_lease <= self.poll_interval:
            raise ConfigError("FERRY_SCHEDULE_LEASE must be longer than "
                              "FERRY_SCHEDULER_POLL_INTERVAL")
        if self.outbox_sweep_interval <= timedelta(0):
            raise ConfigError("FERRY_OUTBOX_SWEEP_INTERVAL must be positive")
        if ":" not in self.registry:
            raise ConfigError(f"FERRY_REGISTRY={self.registry!r} is not host:port")
        if not self.amqp_url.startswith(("amqp://", "amqps://")):
            raise ConfigError("FERRY_AMQP_URL must start with amqp:// or amqps://")
        if self.health_address is not None and ":" not in self.health_address:
            raise ConfigError(f"FERRY_SCHEDULER_HEALTH={self.health_address!r} is not "
                              "host:port (or off)")
