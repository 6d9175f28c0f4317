"""Classifying failures of a run (pure: no grpc, pika or database imports).

Engine, freshness and retention errors carry their ``ErrorClass``
(``error.error_class``). A gRPC error from a service call is TRANSIENT when
``ferry.retry.is_transient_rpc_error`` says so. Anything else is recognised
by type name and, for HTTP errors, by status code:

- TRANSIENT: connection refused/reset, timeouts, HTTP 429 and 5xx, database
  disconnects, broker or registry unreachable. Retried inside the attempt with
  backoff; when retries run out the attempt is handed back (attempt used).
- CREDENTIALS (401/403, missing secret), PERMANENT (404, unreadable source),
  SOURCE_SHAPE (mapped columns gone), MAPPING: the run fails at once with the
  class and a hint for the operator.
"""

from __future__ import annotations

from dataclasses import dataclass

from ferry.retry import is_transient_rpc_error
from ferry_domain.runs.states import ErrorClass

# What the operator reads with a run that failed in each class.
HINTS: dict[ErrorClass, str] = {
    ErrorClass.TRANSIENT: "the source or a service was unreachable; the run is retried "
                          "automatically — check the source's availability if it keeps failing",
    ErrorClass.PERMANENT: "the source cannot be read as configured (missing file or URL, "
                          "unreadable data); check source.location and the file, then retry "
                          "the run",
    ErrorClass.CREDENTIALS: "the source refused the credentials; check the secret referenced "
                            "by source.credentials (env:NAME or file:/path) and the account's "
                            "access",
    ErrorClass.SOURCE_SHAPE: "columns the mapping reads are missing from the source; compare "
                             "the file's header with mapping.fields, fix the mapping or the "
                             "export, and dry-run",
    ErrorClass.MAPPING: "the mapping cannot be applied; run `ferry validate` on the profile, "
                        "fix mapping.fields and dry-run before the next live run",
    ErrorClass.ATTEMPTS_EXHAUSTED: "every attempt failed; look at the run's RETRY events for "
                                   "the cause",
}

# Exception type names (anywhere in the MRO) that mean "try again later".
_TRANSIENT_TYPE_NAMES = frozenset({
    "ConnectionError", "ConnectionRefusedError", "ConnectionResetError",
    "ConnectionAbortedError", "BrokenPipeError", "TimeoutError", "timeout",
    # httpx / httpcore
    "TransportError", "TimeoutException", "NetworkError", "ConnectError", "ReadError",
    "WriteError", "RemoteProtocolError", "PoolTimeout", "ReadTimeout", "ConnectTimeout",
    # SQLAlchemy / DB-API
    "OperationalError", "DisconnectionError", "InterfaceError",
    # pika
    "AMQPConnectionError", "StreamLostError",
})


@dataclass(frozen=True)
class Classification:
    error_class: ErrorClass
    message: str

    @property
    def transient(self) -> bool:
        return self.error_class is ErrorClass.TRANSIENT

    @property
    def hint(self) -> str:
        return HINTS.get(self.error_class, "")


def class_for_http_status(status: int) -> ErrorClass:
    if status in (401, 403, 407):
        return ErrorClass.CREDENTIALS
    if status in (408, 425, 429) or status >= 500:
        return ErrorClass.TRANSIENT
    return ErrorClass.PERMANENT


def _http_status(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(error, "status_code", None)
    return status if isinstance(status, int) else None


def classify(error: BaseException) -> Classification:
    """The error class of a failure and a one-line message."""
    message = str(getattr(error, "message", "") or error) or type(error).__name__
    declared = getattr(error, "error_class", None)
    if isinstance(declared, ErrorClass) and declared is not ErrorClass.UNSPECIFIED:
        return Classification(declared, message)
    if is_transient_rpc_error(error):
        return Classification(ErrorClass.TRANSIENT, message)
    status = _http_status(error)
    if status is not None:
        return Classification(class_for_http_status(status), f"HTTP {status}: {message}")
    names = {klass.__name__ for klass in type(error).__mro__}
    if names & _TRANSIENT_TYPE_NAMES:
        return Classification(ErrorClass.TRANSIENT, message)
    if "FileNotFoundError" in names or "PermissionError" in names:
        return Classification(ErrorClass.PERMANENT, message)
    return Classification(ErrorClass.PERMANENT, f"{type(error).__name__}: {message}")
