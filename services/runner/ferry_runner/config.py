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
| ``FERRY_STATE_DIR`` | ``.ferry`` | local state (default target database, mask.key) |
| ``FERRY_SAMPLES_DIR`` | ``<FERRY_STATE_DIR>/samples`` | where masked run samples are saved |
| ``FERRY_MASK_KEY`` | unset (``<STATE_DIR>/mask.key``) | masking key: ``env:NAME``, ``file:/...`` |
| ``FERRY_TARGET_URL`` | ``sqlite:///<FERRY_STATE_DIR>/target.db`` | default target store |
| ``FERRY_RUNNER_HEALTH`` | ``127.0.0.1:0`` | gRPC health address (port 0 picks a free one) |
| ``FERRY_METRICS_ADDRESS`` | empty (off) | Prometheus ``/metrics`` address, e.g. ``0.0.0.0:9464`` |
| ``FERRY_FILE_ROOTS`` | unset (not confined) | folders file sources stay within (``:``-sep.) |
| ``FERRY_MAX_SOURCE_BYTES`` | ``5GiB`` | largest source file or HTTP body read (0: unlimited) |
| ``FERRY_MAX_DECOMPRESSED_BYTES`` | ``20GiB`` | most a gzip/zip source inflates to (0: off) |
| ``FERRY_MAX_COMPRESSION_RATIO`` | ``200`` | inflated:compressed, past 64 MiB out (0: off) |
| ``FERRY_MAX_FIELD_BYTES`` | ``4MiB`` | longest CSV field; a physical line may be 4x this |
| ``FERRY_MAX_COLUMNS`` | ``4096`` | most columns in a source |
| ``FERRY_MAX_JSON_DEPTH`` | ``64`` | deepest nesting of a JSON record |
| ``FERRY_MAX_SHEET_CELLS`` | ``10000000`` | most cells (rows x columns) of an XLSX sheet (0: off) |
| ``FERRY_LOG_FORMAT`` | ``json`` | ``json`` or ``human`` |
| ``FERRY_LOG_LEVEL`` | ``info`` | ``debug``, ``info``, ``warning``, ``error`` |
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ferry.config import ConfigError, Env
from ferry.mask_key import mask_key_ref_from_env
from ferry.metrics import metrics_address_from_env
from ferry.security.paths import file_roots_from_env
from ferry_domain.engine.limits import SourceLimits
from ferry_domain.leases import MAX_LEASE, MIN_LEASE

DEFAULT_HEALTH_ADDRESS = "127.0.0.1:0"
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+)\s*([a-z]*)\s*$")


def byte_size(env: Env, name: str, default: int) -> int:
    """A size such as ``5GiB``, ``500MB`` or ``1048576``; 0 means unlimited."""
    raw = env.str(name, "").strip()
    if not raw:
        return default
    match = _SIZE.match(raw.lower())
    if not match or match.group(2) not in _UNITS:
        raise ConfigError(f"{name}={raw!r} is not a size (e.g. 5GiB, 500MB, 0 for unlimited)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def limits_from_env(env: Env) -> SourceLimits:
    base = SourceLimits()
    return SourceLimits(
        max_source_bytes=byte_size(env, "FERRY_MAX_SOURCE_BYTES", base.max_source_bytes),
        max_decompressed_bytes=byte_size(env, "FERRY_MAX_DECOMPRESSED_BYTES",
                                         base.max_decompressed_bytes),
        max_compression_ratio=env.int("FERRY_MAX_COMPRESSION_RATIO",
                                      base.max_compression_ratio, minimum=0),
        max_field_bytes=byte_size(env, "FERRY_MAX_FIELD_BYTES", base.max_field_bytes) or
        base.max_field_bytes,
        max_columns=env.int("FERRY_MAX_COLUMNS", base.max_columns, minimum=1),
        max_json_depth=env.int("FERRY_MAX_JSON_DEPTH", base.max_json_depth, minimum=2,
                               maximum=10_000),
        max_sheet_cells=env.int("FERRY_MAX_SHEET_CELLS", base.max_sheet_cells, minimum=0),
    )


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
    # Masked run samples: where they go, and the key's secret reference
    # (empty: a key generated once in <state_dir>/mask.key).
    samples_dir: str = ""
    mask_key_ref: str = ""
    health_address: str = DEFAULT_HEALTH_ADDRESS
    metrics_address: str = ""
    file_roots: tuple[Path, ...] | None = None
    limits: SourceLimits = SourceLimits()
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
        if not MIN_LEASE.total_seconds() <= lease <= MAX_LEASE.total_seconds():
            raise ConfigError(f"FERRY_RUN_LEASE={lease:g}s is outside 1s..1h")
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
        roots = file_roots_from_env(env)
        samples_dir = env.str("FERRY_SAMPLES_DIR", "") or str(Path(state_dir) / "samples")
        mask_key_ref = mask_key_ref_from_env(env)
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
            samples_dir=str(Path(samples_dir).absolute()),
            mask_key_ref=mask_key_ref,
            health_address=health,
            metrics_address=metrics_address_from_env(env),
            file_roots=tuple(roots) if roots is not None else None,
            limits=limits_from_env(env),
            log_format=env.choice("FERRY_LOG_FORMAT", "json", ("json", "human")),
            log_level=env.choice("FERRY_LOG_LEVEL", "info",
                                 ("debug", "info", "warning", "error")),
        )
