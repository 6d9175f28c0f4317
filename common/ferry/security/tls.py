"""TLS and mutual TLS for Ferry's gRPC servers and clients, by configuration.

``TlsConfig.from_env()`` reads (every value is a path to a PEM file, except
the last two):

- ``FERRY_TLS_CERT`` / ``FERRY_TLS_KEY``: the server's certificate chain and
  private key. Set both to serve TLS; leave both unset for plaintext.
- ``FERRY_TLS_CA``: a CA bundle. A server uses it to verify client
  certificates when ``FERRY_TLS_CLIENT_AUTH=require`` (mutual TLS); a client
  uses it to verify the server. Setting it turns TLS on for clients.
- ``FERRY_TLS_CLIENT_CERT`` / ``FERRY_TLS_CLIENT_KEY``: the certificate a
  client presents to a server that requires one. Setting them turns TLS on
  for clients too (verifying the server against the system's roots when
  ``FERRY_TLS_CA`` is unset).
- ``FERRY_TLS_CLIENT_AUTH``: ``none`` (default) or ``require``.
- ``FERRY_TLS_SERVER_NAME``: the name a client expects in the server's
  certificate when it differs from the host it dials (for example dialling
  ``10.0.0.7:50051`` whose certificate says ``registry.ferry.internal``).
  Pass ``channel_options(cfg)`` to the channel to apply it.

``server_credentials`` and ``channel_credentials`` return None for plaintext.
A missing or unreadable file is a ``TlsConfigError`` whose one-line message
names the variable and the file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import grpc

from ferry.config import ConfigError, Env

log = logging.getLogger(__name__)

CERT_VAR = "FERRY_TLS_CERT"
KEY_VAR = "FERRY_TLS_KEY"
CA_VAR = "FERRY_TLS_CA"
CLIENT_AUTH_VAR = "FERRY_TLS_CLIENT_AUTH"
CLIENT_CERT_VAR = "FERRY_TLS_CLIENT_CERT"
CLIENT_KEY_VAR = "FERRY_TLS_CLIENT_KEY"
SERVER_NAME_VAR = "FERRY_TLS_SERVER_NAME"

_CERT_MARK = b"-----BEGIN CERTIFICATE-----"
_KEY_MARK = b"PRIVATE KEY-----"


class TlsConfigError(ConfigError):
    """TLS settings that cannot be used; the message names variable and file."""


@dataclass(frozen=True)
class TlsConfig:
    cert: Path | None = None
    key: Path | None = None
    ca: Path | None = None
    require_client_auth: bool = False
    client_cert: Path | None = None
    client_key: Path | None = None
    server_name: str = ""

    def __post_init__(self) -> None:
        if (self.cert is None) != (self.key is None):
            raise TlsConfigError(f"{CERT_VAR} and {KEY_VAR} must be set together")
        if (self.client_cert is None) != (self.client_key is None):
            raise TlsConfigError(f"{CLIENT_CERT_VAR} and {CLIENT_KEY_VAR} must be set together")

    @classmethod
    def from_env(cls, env: Env | None = None) -> TlsConfig:
        env = env or Env()

        def path(name: str) -> Path | None:
            value = env.str(name, "").strip()
            return Path(value) if value else None

        mode = env.choice(CLIENT_AUTH_VAR, "none", ("none", "require"))
        return cls(cert=path(CERT_VAR), key=path(KEY_VAR), ca=path(CA_VAR),
                   require_client_auth=mode == "require",
                   client_cert=path(CLIENT_CERT_VAR), client_key=path(CLIENT_KEY_VAR),
                   server_name=env.str(SERVER_NAME_VAR, "").strip())

    @property
    def server_mode(self) -> str:
        """``plaintext``, ``tls`` or ``mtls`` for a server built from this config."""
        if self.cert is None:
            return "plaintext"
        return "mtls" if self.require_client_auth else "tls"

    @property
    def client_uses_tls(self) -> bool:
        return self.ca is not None or self.client_cert is not None


def _read_pem(path: Path, var: str, what: str, mark: bytes) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise TlsConfigError(f"{var}: cannot read {what} file {path}: {reason}") from None
    if mark not in data:
        raise TlsConfigError(f"{var}: {what} file {path} holds no PEM "
                             f"'{mark.decode().strip('-')}' block")
    return data


def server_credentials(cfg: TlsConfig) -> grpc.ServerCredentials | None:
    """Credentials for ``create_server(..., credentials=)``; None means plaintext.

    ``FERRY_TLS_CLIENT_AUTH=require`` without a server certificate or CA bundle
    is an error here, never a silent fall back to plaintext. (Client-only
    processes may share that setting: it is checked only when serving.)
    """
    if cfg.require_client_auth and cfg.cert is None:
        raise TlsConfigError(f"{CLIENT_AUTH_VAR}=require needs {CERT_VAR} and {KEY_VAR}")
    if cfg.require_client_auth and cfg.ca is None:
        raise TlsConfigError(f"{CLIENT_AUTH_VAR}=require needs {CA_VAR} "
                             f"(the CA bundle that signs client certificates)")
    if cfg.cert is None or cfg.key is None:
        log.info("gRPC server transport: plaintext (%s unset)", CERT_VAR)
        return None
    chain = _read_pem(cfg.cert, CERT_VAR, "certificate", _CERT_MARK)
    key = _read_pem(cfg.key, KEY_VAR, "private key", _KEY_MARK)
    roots = None
    if cfg.require_client_auth and cfg.ca is not None:
        roots = _read_pem(cfg.ca, CA_VAR, "CA bundle", _CERT_MARK)
    log.info("gRPC server transport: %s", "mutual TLS (client certificates required)"
             if cfg.require_client_auth else "TLS")
    return grpc.ssl_server_credentials([(key, chain)], root_certificates=roots,
                                       require_client_auth=cfg.require_client_auth)


def channel_credentials(cfg: TlsConfig) -> grpc.ChannelCredentials | None:
    """Credentials for ``open_channel``/``RegistryClient``; None means plaintext."""
    if not cfg.client_uses_tls:
        return None
    roots = _read_pem(cfg.ca, CA_VAR, "CA bundle", _CERT_MARK) if cfg.ca else None
    key = chain = None
    if cfg.client_cert is not None and cfg.client_key is not None:
        chain = _read_pem(cfg.client_cert, CLIENT_CERT_VAR, "client certificate", _CERT_MARK)
        key = _read_pem(cfg.client_key, CLIENT_KEY_VAR, "client private key", _KEY_MARK)
    return grpc.ssl_channel_credentials(root_certificates=roots, private_key=key,
                                        certificate_chain=chain)


def channel_options(cfg: TlsConfig) -> list[tuple[str, str]]:
    """Channel options a TLS client needs: the server-name override, if any."""
    if cfg.client_uses_tls and cfg.server_name:
        return [("grpc.ssl_target_name_override", cfg.server_name)]
    return []
