"""The registry's configuration, read once from ``FERRY_*`` variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ferry.config import ConfigError, Env
from ferry.mask_key import mask_key_ref_from_env
from ferry.security.paths import file_roots_from_env

DEFAULT_ADDRESS = "127.0.0.1:50051"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


@dataclass(frozen=True)
class RegistryConfig:
    """Everything the registry needs to start.

    - ``FERRY_REGISTRY``: listen address (default ``127.0.0.1:50051``).
    - ``FERRY_DATABASE_URL``: SQLAlchemy URL (default ``sqlite:///<state dir>/registry.db``).
    - ``FERRY_STATE_DIR``: local state folder, created if missing (default ``.ferry``).
    - ``FERRY_LOG_FORMAT``: ``json`` or ``human`` (default ``json``).
    - ``FERRY_LOG_LEVEL``: default ``info``.
    - ``FERRY_REAPER_INTERVAL``: how often expired run leases are reaped (default ``2s``).
    - ``FERRY_DEFAULT_MAX_ATTEMPTS``: attempts per run when the profile sets none (default 3).
    - ``FERRY_KEEP_RUNS_DAYS``: run history kept, in days, when the profile's
      ``retention.keep_runs_days`` is 0 (default 90).
    - ``FERRY_KEEP_MIN_RUNS``: newest runs kept per profile whatever their age, when the
      profile's ``retention.keep_min_runs`` is 0 (default 100).
    - ``FERRY_JANITOR_INTERVAL``: how often the janitor purges old runs and failed
      source files (default ``10m``).
    - ``FERRY_STALE_CHECK_INTERVAL``: how often profiles with ``expect_change_within``
      are checked for staleness (default ``1m``).
    - ``FERRY_FILE_ROOTS``: folders file sources must stay within (``:``-separated;
      unset: no confinement), for ValidateProfile and the janitor.
    - ``FERRY_RUN_EVENTS``: publish run lifecycle events to RabbitMQ (default ``on``;
      the dataclass default is off, so embedded registries in tests opt in).
    - ``FERRY_AMQP_URL``: RabbitMQ for the events (default ``amqp://guest:guest@127.0.0.1:5672/%2F``).
    - ``FERRY_AMQP_PREFIX``: prefix of the exchange names (default ``ferry``).
    - ``FERRY_MASK_KEY``: key that masks rejected rows and messages again when
      they are stored (a secret reference; default: one generated in
      ``<FERRY_STATE_DIR>/mask.key``). Share the runners' key so masks agree.
    """

    address: str = DEFAULT_ADDRESS
    database_url: str = "sqlite:///.ferry/registry.db"
    state_dir: Path = Path(".ferry")
    log_format: str = "json"
    log_level: str = "info"
    reaper_interval: timedelta = timedelta(seconds=2)
    default_max_attempts: int = 3
    grace: float = 5.0
    keep_runs_days: int = 90
    keep_min_runs: int = 100
    janitor_interval: timedelta = timedelta(minutes=10)
    stale_check_interval: timedelta = timedelta(minutes=1)
    file_roots: tuple[Path, ...] | None = None
    run_events: bool = False
    amqp_url: str = DEFAULT_AMQP_URL
    amqp_prefix: str = "ferry"
    mask_key_ref: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RegistryConfig:
        env = Env(environ)
        state_dir = Path(env.str("FERRY_STATE_DIR", ".ferry"))
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"FERRY_STATE_DIR={state_dir}: cannot create it ({exc})") from None
        url = env.str("FERRY_DATABASE_URL", f"sqlite:///{state_dir / 'registry.db'}")
        if not url.split(":", 1)[0].startswith(("sqlite", "postgresql")):
            raise ConfigError(f"FERRY_DATABASE_URL: unsupported database {url.split(':', 1)[0]!r}"
                              " (use sqlite:///path or postgresql+psycopg://...)")
        address = env.str("FERRY_REGISTRY", DEFAULT_ADDRESS)
        if ":" not in address:
            raise ConfigError(f"FERRY_REGISTRY={address!r} must be host:port")
        interval = env.duration("FERRY_REAPER_INTERVAL", "2s")
        if interval <= timedelta(0):
            raise ConfigError("FERRY_REAPER_INTERVAL must be greater than zero")
        janitor_interval = env.duration("FERRY_JANITOR_INTERVAL", "10m")
        if janitor_interval <= timedelta(0):
            raise ConfigError("FERRY_JANITOR_INTERVAL must be greater than zero")
        stale_check_interval = env.duration("FERRY_STALE_CHECK_INTERVAL", "1m")
        if stale_check_interval <= timedelta(0):
            raise ConfigError("FERRY_STALE_CHECK_INTERVAL must be greater than zero")
        roots = file_roots_from_env(env)
        mask_key_ref = mask_key_ref_from_env(env)
        return cls(
            address=address,
            database_url=url,
            state_dir=state_dir,
            log_format=env.choice("FERRY_LOG_FORMAT", "json", ("json", "human")),
            log_level=env.choice("FERRY_LOG_LEVEL", "info",
                                 ("debug", "info", "warning", "error", "critical")),
            reaper_interval=interval,
            default_max_attempts=env.int("FERRY_DEFAULT_MAX_ATTEMPTS", 3, minimum=1,
                                         maximum=100),
            keep_runs_days=env.int("FERRY_KEEP_RUNS_DAYS", 90, minimum=1, maximum=36500),
            keep_min_runs=env.int("FERRY_KEEP_MIN_RUNS", 100, minimum=0),
            janitor_interval=janitor_interval,
            stale_check_interval=stale_check_interval,
            file_roots=tuple(roots) if roots is not None else None,
            run_events=env.bool("FERRY_RUN_EVENTS", True),
            amqp_url=_amqp_url(env),
            amqp_prefix=_amqp_prefix(env),
            mask_key_ref=mask_key_ref,
        )


def _amqp_url(env: Env) -> str:
    url = env.str("FERRY_AMQP_URL", DEFAULT_AMQP_URL)
    if not url.startswith(("amqp://", "amqps://")):
        raise ConfigError("FERRY_AMQP_URL must start with amqp:// or amqps://")
    return url


def _amqp_prefix(env: Env) -> str:
    prefix = env.str("FERRY_AMQP_PREFIX", "ferry")
    if not prefix or any(c.isspace() for c in prefix):
        raise ConfigError(f"FERRY_AMQP_PREFIX={prefix!r} must be a non-empty name without spaces")
    return prefix
