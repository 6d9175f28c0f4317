"""Classification of failures into error classes, with hints."""

from __future__ import annotations

import pytest
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
    error_class = "SOURCE_SHAPE"


@pytest.mark.parametrize(("error", "expected"), [
    (ConnectionRefusedError("refused"), c.TRANSIENT),
    (ConnectionResetError("reset"), c.TRANSIENT),
    (TimeoutError("slow"), c.TRANSIENT),
    (OperationalError("server closed the connection"), c.TRANSIENT),
    (ConnectError("dns"), c.TRANSIENT),
    (HttpError(429), c.TRANSIENT),
    (HttpError(503), c.TRANSIENT),
    (HttpError(500), c.TRANSIENT),
    (HttpError(401), c.CREDENTIALS),
    (HttpError(403), c.CREDENTIALS),
    (HttpError(404), c.PERMANENT),
    (HttpError(400), c.PERMANENT),
    (FileNotFoundError("gone.csv"), c.PERMANENT),
    (Declared("column sku missing"), c.SOURCE_SHAPE),
    (KeyError("bug"), c.PERMANENT),
])
def test_classify(error: BaseException, expected: str) -> None:
    assert c.classify(error).error_class == expected


def test_engine_errors_keep_their_class_and_message() -> None:
    engine_errors = pytest.importorskip("ferry_domain.engine.errors")
    cases = {
        engine_errors.TransientSourceError("HTTP 503"): c.TRANSIENT,
        engine_errors.CredentialsError("HTTP 401"): c.CREDENTIALS,
        engine_errors.PermanentSourceError("HTTP 404"): c.PERMANENT,
        engine_errors.SourceShapeError("sku missing"): c.SOURCE_SHAPE,
        engine_errors.MappingError("bad transform"): c.MAPPING,
    }
    for error, expected in cases.items():
        found = c.classify(error)
        assert found.error_class == expected
        assert found.message == error.message
        assert found.transient == (expected == c.TRANSIENT)


def test_every_failing_class_has_an_operator_hint() -> None:
    for klass in c.ERROR_CLASSES:
        assert c.HINTS[klass]
    assert "source.credentials" in c.classify(HttpError(401)).hint


def test_unexpected_errors_name_their_type() -> None:
    assert c.classify(KeyError("sku")).message.startswith("KeyError")
