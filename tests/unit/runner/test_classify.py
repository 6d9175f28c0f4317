"""Classification of failures into error classes, with hints."""

from __future__ import annotations

import grpc
import pytest
from ferry_domain.engine import errors as engine_errors
from ferry_domain.freshness import errors as freshness_errors
from ferry_domain.runs.states import ErrorClass
from ferry_runner import classify as c


class HttpError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"status {status}")
        self.response = type("Response", (), {"status_code": status})()


class OperationalError(Exception):
    """Named like SQLAlchemy's."""


class ConnectError(Exception):
    """Named like httpx's."""


class Declared(Exception):
    error_class = ErrorClass.SOURCE_SHAPE


class RpcError(grpc.RpcError):
    """Like the error of a gRPC call to a service."""

    def __init__(self, code: grpc.StatusCode) -> None:
        super().__init__(code.name)
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


@pytest.mark.parametrize(("error", "expected"), [
    (ConnectionRefusedError("refused"), ErrorClass.TRANSIENT),
    (ConnectionResetError("reset"), ErrorClass.TRANSIENT),
    (TimeoutError("slow"), ErrorClass.TRANSIENT),
    (OperationalError("server closed the connection"), ErrorClass.TRANSIENT),
    (ConnectError("dns"), ErrorClass.TRANSIENT),
    (HttpError(429), ErrorClass.TRANSIENT),
    (HttpError(503), ErrorClass.TRANSIENT),
    (HttpError(500), ErrorClass.TRANSIENT),
    (HttpError(401), ErrorClass.CREDENTIALS),
    (HttpError(403), ErrorClass.CREDENTIALS),
    (HttpError(404), ErrorClass.PERMANENT),
    (HttpError(400), ErrorClass.PERMANENT),
    (FileNotFoundError("gone.csv"), ErrorClass.PERMANENT),
    (Declared("column sku missing"), ErrorClass.SOURCE_SHAPE),
    (KeyError("bug"), ErrorClass.PERMANENT),
    (RpcError(grpc.StatusCode.UNAVAILABLE), ErrorClass.TRANSIENT),
    (RpcError(grpc.StatusCode.DEADLINE_EXCEEDED), ErrorClass.TRANSIENT),
    (RpcError(grpc.StatusCode.FAILED_PRECONDITION), ErrorClass.PERMANENT),
])
def test_classify(error: BaseException, expected: ErrorClass) -> None:
    assert c.classify(error).error_class == expected


def test_engine_and_freshness_errors_keep_their_class_and_message() -> None:
    cases = {
        engine_errors.TransientSourceError("HTTP 503"): ErrorClass.TRANSIENT,
        engine_errors.CredentialsError("HTTP 401"): ErrorClass.CREDENTIALS,
        engine_errors.PermanentSourceError("HTTP 404"): ErrorClass.PERMANENT,
        engine_errors.SourceShapeError("sku missing"): ErrorClass.SOURCE_SHAPE,
        engine_errors.MappingError("bad transform"): ErrorClass.MAPPING,
        freshness_errors.FreshnessTransientError("HTTP 503"): ErrorClass.TRANSIENT,
        freshness_errors.FreshnessCredentialsError("HTTP 403"): ErrorClass.CREDENTIALS,
    }
    for error, expected in cases.items():
        found = c.classify(error)
        assert found.error_class is expected
        assert found.message == error.message
        assert found.transient == (expected is ErrorClass.TRANSIENT)


def test_every_failing_class_has_an_operator_hint() -> None:
    for klass in ErrorClass:
        if klass is not ErrorClass.UNSPECIFIED:
            assert c.HINTS[klass]
    assert "source.credentials" in c.classify(HttpError(401)).hint


def test_unexpected_errors_name_their_type() -> None:
    assert c.classify(KeyError("sku")).message.startswith("KeyError")
