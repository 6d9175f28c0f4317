"""Connector plugins, discovered through the ``ferry.connectors`` entry
points (or registered in-process with ``register_connector``).

A connector is a callable ``factory(location, options, credentials)``
returning an object with ``read() -> Iterable[Mapping[str, Any]]`` and,
optionally, ``change_token() -> str`` (used by the freshness gate) and
``check() -> str`` (the probe ``ferry profiles validate`` runs: a line saying
what it checked, or an exception; ``ferry_domain.live_checks.sources``).
``credentials`` is the resolved secret of ``source.credentials_ref`` or
``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib.metadata import entry_points
from typing import Any, Protocol

from ferry.v1 import profile_pb2

from ferry_domain.engine.errors import EngineError, PermanentSourceError, TransientSourceError
from ferry_domain.engine.formats.stream import RecordStream, dict_stream, flatten
from ferry_domain.engine.sources.credentials import secret


class Connector(Protocol):
    def read(self) -> Iterable[Mapping[str, Any]]: ...


ConnectorFactory = Callable[[str, Mapping[str, str], "str | None"], Connector]
_registered: dict[str, ConnectorFactory] = {}


def register_connector(name: str, factory: ConnectorFactory) -> None:
    _registered[name] = factory


def available_connectors() -> list[str]:
    names = set(_registered)
    names.update(ep.name for ep in entry_points(group="ferry.connectors"))
    return sorted(names)


def load_connector(name: str) -> ConnectorFactory:
    if name in _registered:
        return _registered[name]
    for ep in entry_points(group="ferry.connectors"):
        if ep.name == name:
            try:
                return ep.load()
            except Exception as exc:  # noqa: BLE001 - plugin import failed
                raise PermanentSourceError(
                    f"connector {name!r} cannot be loaded: {type(exc).__name__}: {exc}"
                ) from None
    raise PermanentSourceError(
        f"no connector named {name!r}; installed: {', '.join(available_connectors()) or 'none'}"
    )


def make_connector(source: profile_pb2.Source) -> Connector:
    factory = load_connector(source.connector)
    credentials = (
        secret(source.credentials_ref, "source.credentials_ref") if source.credentials_ref else None
    )
    return factory(source.location, dict(source.options), credentials)


def change_token(source: profile_pb2.Source) -> str | None:
    """The connector's change token, or None when it offers none."""
    connector = make_connector(source)
    token = getattr(connector, "change_token", None)
    return str(token()) if callable(token) else None


def open_connector(source: profile_pb2.Source) -> Iterator[RecordStream]:
    connector = make_connector(source)
    yield dict_stream(f"connector:{source.connector}", _records(connector, source.connector))


def _records(connector: Connector, name: str) -> Iterator[dict[str, Any]]:
    try:
        for record in connector.read():
            yield flatten(dict(record))
    except EngineError:
        raise
    except (ConnectionError, TimeoutError) as exc:
        raise TransientSourceError(f"connector {name}: {type(exc).__name__}: {exc}") from None
