"""Transport security, authentication and file-path confinement for Ferry.

- ``ferry.security.tls``: TLS / mutual TLS credentials from ``FERRY_TLS_*``.
- ``ferry.security.roles``: the role every gRPC method requires.
- ``ferry.security.tokens``: the bearer-token table (hashes only).
- ``ferry.security.auth``: the server interceptor that checks tokens and
  roles, and the client interceptor that sends a token.
- ``ferry.security.paths``: confining file sources to ``FERRY_FILE_ROOTS``.

See docs/security.md for configuration and the full method table.
"""

from ferry.security.auth import (
    AuthConfig,
    AuthInterceptor,
    BearerTokenInterceptor,
    client_auth_interceptors,
    load_token_table,
    server_auth_interceptor,
)
from ferry.security.paths import (
    PathNotAllowedError,
    confine_glob,
    confine_path,
    file_roots_from_env,
)
from ferry.security.roles import METHOD_ROLES, Role, allows, required_role
from ferry.security.tls import (
    TlsConfig,
    TlsConfigError,
    channel_credentials,
    channel_options,
    server_credentials,
)
from ferry.security.tokens import Principal, TokenTable, TokenTableError

__all__ = [
    "METHOD_ROLES", "AuthConfig", "AuthInterceptor", "BearerTokenInterceptor",
    "PathNotAllowedError", "Principal", "Role", "TlsConfig", "TlsConfigError", "TokenTable",
    "TokenTableError", "allows", "channel_credentials", "channel_options",
    "client_auth_interceptors", "confine_glob", "confine_path", "file_roots_from_env",
    "load_token_table", "required_role", "server_auth_interceptor", "server_credentials",
]
