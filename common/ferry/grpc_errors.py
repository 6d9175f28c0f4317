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


def status_for(exc: errors.FerryError) -> grpc.Status:
    code = next((c for kind, c in _CODES if isinstance(exc, kind)), grpc.StatusCode.UNKNOWN)
    status = status_pb2.Status(code=code.value[0], message=exc.message)
    if isinstance(exc, errors.InvalidArgumentError) and exc.violations:
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in exc.violations
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


def _wrap_unary(behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
    def wrapper(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return behavior(request, context)
        except errors.FerryError as exc:
            context.abort_with_status(status_for(exc))
        except Exception:  # noqa: BLE001 - the boundary of the service
            if context.code() is not None and context.code() != grpc.StatusCode.OK:
                raise
            _abort_internal(context, method)
    return wrapper


def _wrap_stream(behavior: Callable[..., Iterator[Any]], method: str) -> Callable[..., Any]:
    def wrapper(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from behavior(request, context)
        except errors.FerryError as exc:
            context.abort_with_status(status_for(exc))
        except Exception:  # noqa: BLE001 - the boundary of the service
            if context.code() is not None and context.code() != grpc.StatusCode.OK:
                raise
            _abort_internal(context, method)
    return wrapper


class ErrorMappingInterceptor(grpc.ServerInterceptor):
    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(handler.unary_stream, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        return handler
