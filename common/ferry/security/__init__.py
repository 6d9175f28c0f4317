"""Transport security, authentication and file-path confinement for Ferry.

- ``ferry.security.tls``: TLS / mutual TLS credentials from ``FERRY_TLS_*``.
- ``ferry.security.roles``: the role every gRPC method requires.
- ``ferry.security.tokens``: the bearer-token table (hashes only).
- ``ferry.security.auth``: the server interceptor that checks tokens and
  roles, and the client interceptor that sends a token.
- ``ferry.security.paths``: confining file sources to ``FERRY_FILE_ROOTS``.

The names below are importable from the package itself; each submodule is
loaded when one of its names is first used, so that the engine, which needs
only ``paths``, does not load gRPC with the interceptors.

See docs/security.md for configuration and the full method table.
"""

from __future__ import annotations

import importlib
from typing import Any

# Public name -> the submodule that defines it.
_EXPORTS = {
    "AuthConfig": "auth", "AuthInterceptor": "auth", "BearerTokenInterceptor": "auth",
    "client_auth_interceptors": "auth", "load_token_table": "auth",
    "server_auth_interceptor": "auth",
    "PathNotAllowedError": "paths", "confine_glob": "paths", "confine_path": "paths",
    "file_roots_from_env": "paths",
    "METHOD_ROLES": "roles", "Role": "roles", "allows": "roles", "required_role": "roles",
    "TlsConfig": "tls", "TlsConfigError": "tls", "channel_credentials": "tls",
    "channel_options": "tls", "server_credentials": "tls",
    "Principal": "tokens", "TokenTable": "tokens", "TokenTableError": "tokens",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
