"""``ferry-registry``: the composition root of the registry service."""

from __future__ import annotations

import logging
import sys
from urllib.parse import unquote, urlsplit

from ferry.clock import OffsetClock, clock_from_env
from ferry.config import ConfigError
from ferry.grpc_server import StopSignal, port_in_use, wait_for_stop_signal
from ferry.logs import configure_logging, set_redactor
from ferry.secrets import SecretRedactor

log = logging.getLogger("ferry_registry")


def _fail(message: str) -> int:
    print(f"ferry-registry: error: {message}", file=sys.stderr, flush=True)
    return 1


def _port_taken(address: str) -> str | None:
    reason = port_in_use(address)
    return f"cannot listen on {address}: {reason}" if reason else None


def _protect_amqp_logs(amqp_url: str, log_level: str) -> None:
    """Mask the FERRY_AMQP_URL password in every log line; below debug, leave the
    broker's outages to the run event relay (one line per outage) rather than
    pika (an ERROR with a traceback per refused connection)."""
    password = urlsplit(amqp_url).password
    if password:
        set_redactor(SecretRedactor([password, unquote(password)]))
    if log_level != "debug":
        logging.getLogger("pika").setLevel(logging.CRITICAL)


def _describe(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    from ferry.metrics import (
        METRICS,
        GrpcMetricsInterceptor,
        metrics_address_from_env,
        start_metrics_server,
    )
    from ferry.security import (
        AuthConfig,
        TlsConfig,
        server_auth_interceptor,
        server_credentials,
    )

    from ferry_registry.config import RegistryConfig

    try:
        config = RegistryConfig.from_env()
        clock = clock_from_env()
        metrics_address = metrics_address_from_env()
        tls = TlsConfig.from_env()
        auth = AuthConfig.from_env()
    except ConfigError as exc:
        return _fail(str(exc))
    configure_logging("registry", fmt=config.log_format, level=config.log_level)
    _protect_amqp_logs(config.amqp_url, config.log_level)
    if isinstance(clock, OffsetClock):
        log.warning("test clock: the registry's time is shifted by %s", clock.offset)
    try:
        credentials = server_credentials(tls)
        guard = server_auth_interceptor(auth)
    except ConfigError as exc:
        return _fail(str(exc))

    taken = _port_taken(config.address)
    if taken:
        return _fail(taken)
    stop_signal = StopSignal().install()

    import sqlalchemy.exc

    from ferry_registry.server import create_registry_server

    try:
        start_metrics_server(metrics_address)
        interceptors = [GrpcMetricsInterceptor(), *([guard] if guard else [])]
        server, stop = create_registry_server(config, clock, interceptors=interceptors,
                                              credentials=credentials, metrics=METRICS)
    except sqlalchemy.exc.ArgumentError as exc:
        return _fail(f"FERRY_DATABASE_URL is not a usable database URL: {_describe(exc)}")
    except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError) as exc:
        return _fail(f"cannot open the database: {_describe(exc)}")
    except sqlalchemy.exc.SQLAlchemyError as exc:
        return _fail(f"database error at start-up: {_describe(exc)}")
    except ModuleNotFoundError as exc:
        return _fail(f"missing database driver: {exc.name}")
    except OSError as exc:
        return _fail(str(exc))
    signal_name = wait_for_stop_signal(stop_signal)
    log.info("received %s, stopping", signal_name)
    stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
