"""A fake registry client for CLI unit tests: canned replies, recorded requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from ferry import errors
from ferry.grpc_errors import status_for
from ferry.v1 import profile_service_pb2


class FakeRpcError(grpc.RpcError):
    """What a stub raises: a code, details and the rich-status trailing metadata."""

    def __init__(self, code: grpc.StatusCode, details: str, metadata: tuple = ()) -> None:
        super().__init__(details)
        self._code, self._details, self._metadata = code, details, metadata

    @classmethod
    def from_domain(cls, exc: errors.FerryError) -> FakeRpcError:
        status = status_for(exc)
        return cls(status.code, status.details, status.trailing_metadata)

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple:
        return self._metadata


class FakeStub:
    """Methods answer from ``replies[name]``: a message, an exception, or a callable."""

    def __init__(self, replies: dict[str, Any], calls: list[tuple[str, Any]]) -> None:
        self._replies, self._calls = replies, calls

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(request: Any, timeout: float | None = None) -> Any:
            self._calls.append((name, request))
            reply = self._replies[name]
            if callable(reply) and not hasattr(reply, "SerializeToString"):
                reply = reply(request)
            if isinstance(reply, BaseException):
                raise reply
            return reply
        return call


class FakeRegistry:
    """Stand-in for ``ferry.grpc_client.RegistryClient``."""

    def __init__(self) -> None:
        # Commands that look for stale or failing profiles find none unless a
        # test says so.
        self.replies: dict[str, Any] = {
            "ListProfiles": profile_service_pb2.ListProfilesResponse(),
            "GetProfile": profile_service_pb2.GetProfileResponse()}
        self.calls: list[tuple[str, Any]] = []
        self.profiles = FakeStub(self.replies, self.calls)
        self.schedules = FakeStub(self.replies, self.calls)
        self.runs = FakeStub(self.replies, self.calls)
        self.closed = False

    def requests(self, name: str) -> list[Any]:
        return [request for called, request in self.calls if called == name]

    def close(self) -> None:
        self.closed = True
