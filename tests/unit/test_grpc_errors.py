"""The service boundary of ferry.grpc_errors, for unary and streaming handlers:
a Ferry error becomes its status, anything unexpected INTERNAL with a
reference, and a status the handler set itself passes through."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from ferry import errors
from ferry.grpc_errors import _wrap_stream, _wrap_unary


class Aborted(Exception):
    pass


class FakeContext:
    def __init__(self, code: grpc.StatusCode | None = None) -> None:
        self._code = code
        self.status: grpc.Status | None = None

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def abort_with_status(self, status: grpc.Status) -> None:
        self.status = status
        raise Aborted


def unary(fail: Callable[[], Any]) -> Callable[..., Any]:
    def handler(request: Any, context: Any) -> Any:
        return fail()

    return _wrap_unary(handler, "/t.S/M")


def stream(fail: Callable[[], Any]) -> Callable[..., Any]:
    def handler(request: Any, context: Any) -> Iterator[Any]:
        yield "first"
        yield fail()

    wrapped = _wrap_stream(handler, "/t.S/M")
    return lambda request, context: list(wrapped(request, context))


def not_found() -> Any:
    raise errors.NotFoundError("profile p1 not found")


def boom() -> Any:
    raise RuntimeError("secret detail")


@pytest.mark.parametrize("wrap", [unary, stream], ids=["unary", "stream"])
def test_ferry_error_becomes_its_status(wrap: Callable[..., Any]) -> None:
    context = FakeContext()
    with pytest.raises(Aborted):
        wrap(not_found)("req", context)
    assert context.status is not None
    assert context.status.code == grpc.StatusCode.NOT_FOUND
    assert context.status.details == "profile p1 not found"


@pytest.mark.parametrize("wrap", [unary, stream], ids=["unary", "stream"])
def test_unexpected_error_is_internal_with_a_reference(wrap: Callable[..., Any]) -> None:
    context = FakeContext()
    with pytest.raises(Aborted):
        wrap(boom)("req", context)
    assert context.status is not None
    assert context.status.code == grpc.StatusCode.INTERNAL
    assert context.status.details.startswith("internal error in /t.S/M (reference ")
    assert "secret detail" not in context.status.details


@pytest.mark.parametrize("wrap", [unary, stream], ids=["unary", "stream"])
def test_status_set_by_the_handler_passes_through(wrap: Callable[..., Any]) -> None:
    context = FakeContext(grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(RuntimeError, match="secret detail"):
        wrap(boom)("req", context)
    assert context.status is None


def test_results_pass_through() -> None:
    context = FakeContext()
    assert unary(lambda: "ok")("req", context) == "ok"
    assert stream(lambda: "second")("req", context) == ["first", "second"]
