"""Decoding run requests; what counts as poison."""

from __future__ import annotations

import pytest
from ferry.amqp.topology import RUN_REQUEST_CONTENT_TYPE
from ferry.v1 import run_request_pb2
from ferry_runner.requests import PoisonMessageError, decode_run_request


def body(**fields: object) -> bytes:
    values = {"schema_version": 1, "run_id": "r1", "profile": "p", "attempt": 1, **fields}
    return run_request_pb2.RunRequest(**values).SerializeToString()  # type: ignore[arg-type]


def test_decodes_a_valid_request() -> None:
    request = decode_run_request(body(), RUN_REQUEST_CONTENT_TYPE)
    assert (request.run_id, request.profile, request.attempt) == ("r1", "p", 1)
    assert decode_run_request(body(), "").run_id == "r1"


@pytest.mark.parametrize(("payload", "content_type", "reason"), [
    (b"\xff\xfe garbage \x00\x01", RUN_REQUEST_CONTENT_TYPE, "not a RunRequest"),
    (body(schema_version=99), RUN_REQUEST_CONTENT_TYPE, "unknown schema_version 99"),
    (body(schema_version=0), RUN_REQUEST_CONTENT_TYPE, "unknown schema_version 0"),
    (body(run_id=""), RUN_REQUEST_CONTENT_TYPE, "without run_id"),
    (body(), "application/json", "unexpected content type"),
    (body(), "application/x-protobuf; proto=ferry.v1.RunLifecycleEvent",
     "unexpected content type"),
    (b"", "", "unknown schema_version 0"),
])
def test_poison(payload: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(PoisonMessageError, match=reason):
        decode_run_request(payload, content_type)
