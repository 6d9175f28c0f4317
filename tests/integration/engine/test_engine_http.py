"""HTTP(S) GET sources against a local server on 127.0.0.1: content types,
auth from secret references, and how failures are classified."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ferry.v1 import profile_pb2 as pb
from ferry_domain.engine import (
    CredentialsError,
    PermanentSourceError,
    TransientSourceError,
    run_profile,
)
from ferry_domain.runs.states import ErrorClass

TOKEN = "s3cr3t-token-value"
CSV_BODY = b"sku,name\nA,Shirt\nB,Hat\n"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        auth = self.headers.get("Authorization", "")
        if path == "/bearer.csv":
            if auth != f"Bearer {TOKEN}" or self.headers.get("X-Shop") != "42":
                return self._send(401, b"no", "text/plain")
            return self._send(200, CSV_BODY, "text/csv")
        if path == "/basic":
            expected = "Basic " + base64.b64encode(b"ferry:" + TOKEN.encode()).decode()
            if auth != expected:
                return self._send(403, b"forbidden", "text/plain")
            body = json.dumps({"data": {"items": [{"sku": "J", "name": "Json"}]}}).encode()
            return self._send(200, body, "application/json; charset=utf-8")
        if path == "/busy":
            return self._send(503, b"busy", "text/plain")
        if path == "/slow":
            time.sleep(1.5)
            return self._send(200, CSV_BODY, "text/csv")
        return self._send(404, b"not here", "text/plain")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _profile(url: str, **source) -> pb.Profile:
    fields = [
        pb.FieldMapping(target="sku", source="sku"),
        pb.FieldMapping(target="name", source="name"),
    ]
    return pb.Profile(
        name="http",
        entity_type="products",
        operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_HTTP, location=url, **source),
        mapping=pb.Mapping(fields=fields),
    )


@pytest.fixture
def target(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 't.db'}"


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv("FERRY_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("FERRY_TEST_BASIC", f"ferry:{TOKEN}")


def test_bearer_auth_headers_and_csv_body(server, target):
    profile = _profile(
        f"{server}/bearer.csv",
        auth=pb.AUTH_KIND_BEARER,
        credentials_ref="env:FERRY_TEST_TOKEN",
        headers={"X-Shop": "42"},
    )
    result = run_profile(profile, dry_run=False, default_target_url=target)
    assert result.counts.created == 2
    assert result.source_paths == [f"{server}/bearer.csv"]


def test_basic_auth_and_json_body_by_content_type(server, target):
    profile = _profile(
        f"{server}/basic",
        auth=pb.AUTH_KIND_BASIC,
        credentials_ref="env:FERRY_TEST_BASIC",
        format=pb.Format(records_path="data.items"),
    )
    assert run_profile(profile, dry_run=False, default_target_url=target).counts.created == 1


def test_wrong_token_is_a_credentials_error_without_the_secret(server, target, monkeypatch):
    monkeypatch.setenv("FERRY_TEST_TOKEN", "wrong-" + TOKEN)
    profile = _profile(
        f"{server}/bearer.csv?key=hidden",
        auth=pb.AUTH_KIND_BEARER,
        credentials_ref="env:FERRY_TEST_TOKEN",
        headers={"X-Shop": "42"},
    )
    with pytest.raises(CredentialsError) as info:
        run_profile(profile, dry_run=False, default_target_url=target)
    assert "HTTP 401" in str(info.value)
    assert TOKEN not in str(info.value) and "hidden" not in str(info.value)
    assert info.value.error_class == ErrorClass.CREDENTIALS


def test_missing_secret_is_a_credentials_error(server, target, monkeypatch):
    monkeypatch.delenv("FERRY_TEST_TOKEN")
    profile = _profile(
        f"{server}/bearer.csv", auth=pb.AUTH_KIND_BEARER, credentials_ref="env:FERRY_TEST_TOKEN"
    )
    with pytest.raises(CredentialsError, match="env:FERRY_TEST_TOKEN is not set"):
        run_profile(profile, dry_run=False, default_target_url=target)


def test_failures_are_classified(server, target):
    with pytest.raises(PermanentSourceError, match="HTTP 404"):
        run_profile(_profile(f"{server}/gone.csv"), dry_run=False, default_target_url=target)
    with pytest.raises(TransientSourceError, match="HTTP 503"):
        run_profile(_profile(f"{server}/busy"), dry_run=False, default_target_url=target)
    slow = _profile(f"{server}/slow", timeout={"nanos": 300_000_000})
    with pytest.raises(TransientSourceError, match="Timeout"):
        run_profile(slow, dry_run=False, default_target_url=target)
    # Nothing listens on port 9 of localhost: connection refused.
    with pytest.raises(TransientSourceError, match="ConnectError"):
        run_profile(_profile("http://127.0.0.1:9/x.csv"), dry_run=False, default_target_url=target)
