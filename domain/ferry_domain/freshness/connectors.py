"""Connector change tokens, through the ``ferry.connectors`` entry points.

Two shapes of plugin are accepted:

- an object with ``change_token(source) -> str`` (a module or an instance);
- a factory (a class or function) ``factory(location, options,
  credentials)`` returning an object with ``change_token() -> str`` (the
  shape the engine reads rows through).

A connector without ``change_token`` cannot be used with
CONNECTOR_TOKEN; that is a permanent (configuration) error.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from ferry.secrets import SecretError, resolve_secret
from ferry.v1 import profile_pb2

from ferry_domain.freshness.errors import (
    FreshnessCredentialsError,
    FreshnessError,
    FreshnessPermanentError,
    FreshnessTransientError,
)

GROUP = "ferry.connectors"

Loader = Callable[[str], Any]


def load_entry_point(name: str) -> Any:
    """The object the ``ferry.connectors`` entry point ``name`` names."""
    for entry in entry_points(group=GROUP):
        if entry.name == name:
            try:
                return entry.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin is permanent
                raise FreshnessPermanentError(
                    f"connector {name!r} cannot be loaded: {type(exc).__name__}"
                ) from None
    raise FreshnessPermanentError(f"no connector named {name!r} in entry points {GROUP!r}")


def _credentials(source: profile_pb2.Source) -> str | None:
    if not source.credentials_ref:
        return None
    try:
        return resolve_secret(source.credentials_ref)
    except SecretError as exc:
        raise FreshnessCredentialsError(str(exc)) from None


def change_token(source: profile_pb2.Source, loader: Loader = load_entry_point) -> str:
    """Ask the source's connector for its change token."""
    if not source.connector:
        raise FreshnessPermanentError("source.connector is required for CONNECTOR_TOKEN")
    plugin = loader(source.connector)
    try:
        if not isinstance(plugin, type) and callable(getattr(plugin, "change_token", None)):
            token = plugin.change_token(source)
        elif callable(plugin):
            instance = plugin(source.location, dict(source.options), _credentials(source))
            method = getattr(instance, "change_token", None)
            if not callable(method):
                raise FreshnessPermanentError(
                    f"connector {source.connector!r} offers no change_token()"
                )
            token = method()
        else:
            raise FreshnessPermanentError(
                f"connector {source.connector!r} offers no change_token()"
            )
    except FreshnessError:
        raise
    except (ConnectionError, TimeoutError) as exc:
        raise FreshnessTransientError(
            f"connector {source.connector!r} change_token failed: {type(exc).__name__}"
        ) from None
    except Exception as exc:  # noqa: BLE001 - plugin code: classify, do not crash
        raise FreshnessPermanentError(
            f"connector {source.connector!r} change_token failed: {type(exc).__name__}"
        ) from None
    if token is None or str(token) == "":
        raise FreshnessPermanentError(
            f"connector {source.connector!r} returned an empty change token"
        )
    return str(token)
