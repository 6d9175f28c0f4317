"""Decoding run requests from the queue (pure: protobuf only).

A body that does not decode, carries the wrong content type, names a schema
version this runner does not know, or lacks a run id is *poison*: it can never
be processed, so it goes to the dead-letter queue instead of being requeued.
"""

from __future__ import annotations

from ferry.amqp.topology import RUN_REQUEST_CONTENT_TYPE, RUN_REQUEST_SCHEMA_VERSION
from ferry.v1 import run_request_pb2
from google.protobuf.message import DecodeError

SUPPORTED_SCHEMA_VERSIONS = frozenset({RUN_REQUEST_SCHEMA_VERSION})


class PoisonMessageError(ValueError):
    """The message can never be processed; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode_run_request(body: bytes, content_type: str = "") -> run_request_pb2.RunRequest:
    """Decode and check a RunRequest body or raise ``PoisonMessageError``."""
    if content_type and content_type.split(";")[0].strip() != \
            RUN_REQUEST_CONTENT_TYPE.split(";")[0].strip():
        raise PoisonMessageError(f"unexpected content type {content_type!r}")
    if content_type and "proto=" in content_type and content_type != RUN_REQUEST_CONTENT_TYPE:
        raise PoisonMessageError(f"unexpected content type {content_type!r}")
    request = run_request_pb2.RunRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, ValueError) as exc:
        raise PoisonMessageError(f"body is not a RunRequest ({exc})") from None
    if request.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        raise PoisonMessageError(
            f"unknown schema_version {request.schema_version} "
            f"(this runner reads {sorted(SUPPORTED_SCHEMA_VERSIONS)})")
    if not request.run_id:
        raise PoisonMessageError("run request without run_id")
    if request.attempt < 0:
        raise PoisonMessageError(f"negative attempt {request.attempt}")
    return request
