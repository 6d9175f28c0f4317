"""Real HTTP servers on 127.0.0.1 for the freshness probes.

``FeedServer`` serves one body at ``/feed.csv`` (``/moved.csv`` redirects
there). With ``honour_validators``
it sends an ETag and Last-Modified and answers 304 to a matching
conditional GET; without, it ignores If-None-Match/If-Modified-Since. Every
request is logged with the status sent and how many body bytes were written,
so a test can prove a 304 carried no body.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Served:
    status: int
    body_bytes: int
    headers: dict[str, str]


@dataclass
class FeedState:
    body: bytes = b"sku,price\nA,1\nB,2\n"
    modified: float = 1_764_000_000.0
    honour_validators: bool = True
    send_validators: bool = True
    required_auth: str | None = None
    log: list[Served] = field(default_factory=list)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'

    @property
    def last_modified(self) -> str:
        return formatdate(self.modified, usegmt=True)


class FeedServer:
    def __init__(self, state: FeedState) -> None:
        self.state = state
        handler = _handler_for(state)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/feed.csv"

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def _handler_for(state: FeedState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            headers = {k.lower(): v for k, v in self.headers.items()}
            if self.path == "/moved.csv":  # a permanent redirect to the feed
                self.send_response(301)
                self.send_header("Location", "/feed.csv")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            if self.path != "/feed.csv":
                return self._send(404, b"not found", headers)
            if state.required_auth and headers.get("authorization") != state.required_auth:
                return self._send(401, b"", headers)
            if state.honour_validators and (
                headers.get("if-none-match") == state.etag
                or (
                    "if-none-match" not in headers
                    and headers.get("if-modified-since") == state.last_modified
                )
            ):
                return self._send(304, b"", headers)
            return self._send(200, state.body, headers)

        def _send(self, status: int, body: bytes, request_headers: dict[str, str]) -> None:
            # Logged before answering, so the client never sees a reply first.
            state.log.append(Served(status, 0 if status == 304 else len(body), request_headers))
            self.send_response(status)
            if state.send_validators and status in (200, 304):
                self.send_header("ETag", state.etag)
                self.send_header("Last-Modified", state.last_modified)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

    return Handler


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer(FeedState()) as server:
        yield server


@pytest.fixture
def ignoring_server() -> Iterator[FeedServer]:
    """Answers every GET with 200 and the full body, validators or not."""
    with FeedServer(FeedState(honour_validators=False, send_validators=False)) as server:
        yield server
