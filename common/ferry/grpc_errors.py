"""The one place that maps Ferry's domain errors to gRPC status codes.

Servicers raise ``ferry.errors`` exceptions; ``ErrorMappingInterceptor``
(installed by ``ferry.grpc_server``) turns them into a status with the message
and, for INVALID_ARGUMENT, a ``google.rpc.BadRequest`` naming every bad field.
Unexpected exceptions become INTERNAL with a short reference; the traceback
goes to the service log, never to the client.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from ferry import errors

log = logging.getLogger(__name__)

_CODES: list[tuple[type[errors.FerryError], grpc.StatusCode]] = [
    (errors.InvalidArgumentError, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFoundError, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPreconditionError, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.UnavailableError, grpc.StatusCode.UNAVAILABLE),
    (errors.PermissionDeniedError, grpc.StatusCode.PERMISSION_DENIED),
]


# Status messages travel in trailers (gRPC's default limit: 16 KiB of
# metadata); a message echoing a 1 MB input would break the reply itself.
MAX_STATUS_TEXT = 1000
MAX_VIOLATIONS = 50


def short(text: str, limit: int = MAX_STATUS_TEXT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters cut)"


def status_for(exc: errors.FerryError) -> grpc.Status:
    code = next((c for kind, c in _CODES if isinstance(exc, kind)), grpc.StatusCode.UNKNOWN)
    status = status_pb2.Status(code=code.value[0], message=short(exc.message))
    if isinstance(exc, errors.InvalidArgumentError) and exc.violations:
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=short(v.field, 200),
                                                        description=short(v.description, 300))
            for v in exc.violations[:MAX_VIOLATIONS]
        ]))
        status.details.append(detail)
    return rpc_status.to_status(status)


def field_violations(exc: grpc.RpcError) -> list[errors.Violation]:
    """Field violations carried by a client-side INVALID_ARGUMENT error."""
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    found: list[errors.Violation] = []
    if status is None:
        return found
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            request = error_details_pb2.BadRequest()
            detail.Unpack(request)
            found.extend(errors.Violation(v.field, v.description) for v in request.field_violations)
    return found


def _abort_internal(context: grpc.ServicerContext, method: str) -> None:
    ref = uuid.uuid4().hex[:12]
    log.exception("unhandled error in %s", method, extra={"fields": {"error_ref": ref}})
    context.abort_with_status(rpc_status.to_status(status_pb2.Status(
        code=code_pb2.INTERNAL, message=f"internal error in {method} (reference {ref})")))


def _decoder(deserializer: Callable[[bytes], Any] | None, method: str
             ) -> Callable[[Any, grpc.ServicerContext], Any]:
    """Decode the request here, so a corrupt body is INVALID_ARGUMENT (gRPC's
    own deserialization failure would be INTERNAL with a logged traceback)."""
    def decode(raw: Any, context: grpc.ServicerContext) -> Any:
        if deserializer is None or not isinstance(raw, bytes):
            return raw
        try:
            return deserializer(raw)
        except Exception:  # noqa: BLE001 - DecodeError and friends: a bad request
            log.warning("request to %s is not a valid message (%d bytes)", method, len(raw))
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"request to {method} is not a valid protobuf message")
    return decode


@contextmanager
def _service_boundary(context: grpc.ServicerContext, method: str) -> Iterator[None]:
    """Abort with the status of a Ferry error, or INTERNAL for an unexpected
    exception (a status the handler already set passes through)."""
    try:
        yield
    except errors.FerryError as exc:
        context.abort_with_status(status_for(exc))
    except Exception:  # noqa: BLE001 - the boundary of the service
        if context.code() is not None and context.code() != grpc.StatusCode.OK:
            raise
        _abort_internal(context, method)


def _wrap_unary(behavior: Callable[..., Any], method: str,
                deserializer: Callable[[bytes], Any] | None = None) -> Callable[..., Any]:
    decode = _decoder(deserializer, method)

    def wrapper(request: Any, context: grpc.ServicerContext) -> Any:
        request = decode(request, context)
        with _service_boundary(context, method):
            return behavior(request, context)
    return wrapper


def _wrap_stream(behavior: Callable[..., Iterator[Any]], method: str,
                 deserializer: Callable[[bytes], Any] | None = None) -> Callable[..., Any]:
    decode = _decoder(deserializer, method)

    def wrapper(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        request = decode(request, context)
        with _service_boundary(context, method):
            yield from behavior(request, context)
    return wrapper


class ErrorMappingInterceptor(grpc.ServerInterceptor):
    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary, method, handler.request_deserializer),
                response_serializer=handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(handler.unary_stream, method, handler.request_deserializer),
                response_serializer=handler.response_serializer)
        return handler
