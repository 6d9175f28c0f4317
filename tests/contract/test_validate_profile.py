"""The checks of ``ferry profiles validate`` on a profile stored in a real
registry: its static checks (ValidateProfile), then the live checks a runner
executes (``ferry_domain.live_checks``, run here in-process): a file source,
an HTTP source behind a bearer token (a real local server), the source's shape
against the mapping, and a SQLite target that can or cannot be written. The
runner-task path itself is tested in tests/integration/runner/test_validate_flow.py."""

from __future__ import annotations

import http.server
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from ferry.v1 import profile_pb2, profile_service_pb2
from ferry_domain.engine.entities import get_entity
from ferry_domain.engine.targets.tables import build_table
from ferry_domain.live_checks import LiveChecks

from tests.contract.helpers import apply, profile

TOKEN = "s3cret-token-value"
FEED = b"SKU,Name,Colour\nA1,Apple,red\nB2,Pear,green\n"


class FeedHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(FEED)))
        self.end_headers()
        self.wfile.write(FEED)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def feed_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feed.csv"
    finally:
        server.shutdown()
        server.server_close()


def target_ref(tmp_path: Path, url: str) -> str:
    ref = tmp_path / "target-dsn"
    ref.write_text(url + "\n")
    return f"file:{ref}"


def file_profile(tmp_path: Path, location: str, *, target_url: str | None = None,
                 name: str = "stock") -> profile_pb2.Profile:
    prof = profile(name)
    prof.source.location = location
    prof.source.format.kind = profile_pb2.FORMAT_KIND_CSV
    prof.target.dsn_ref = target_ref(
        tmp_path, target_url or f"sqlite:///{tmp_path / 'target.db'}")
    return prof


def validate(client, name: str = "stock") -> dict[str, tuple[bool, str]]:
    reply = client.profiles.ValidateProfile(
        profile_service_pb2.ValidateProfileRequest(name=name))
    checks = {c.check: (c.ok, c.message) for c in reply.checks}
    assert reply.ok == all(ok for ok, _ in checks.values())
    stored = client.profiles.GetProfile(profile_service_pb2.GetProfileRequest(name=name)).profile
    checks.update({c.check: (c.ok, c.message) for c in LiveChecks().run(stored)})
    return checks


def test_file_source_shape_and_new_sqlite_target_pass(client, tmp_path):
    source = tmp_path / "stock.csv"
    source.write_text("SKU,Name,Colour\nA1,Apple,red\n")
    apply(client, file_profile(tmp_path, str(source)))
    checks = validate(client)
    assert list(checks) == ["definition", "credentials", "source", "shape", "shape drift",
                            "target"]
    assert all(ok for ok, _ in checks.values()), checks
    assert "readable" in checks["source"][1]
    assert "not mapped: 'Colour'" in checks["shape"][1]
    assert "does not exist yet" in checks["target"][1]
    assert not (tmp_path / "target.db").exists()  # nothing created


def test_existing_target_table_is_probed_and_left_untouched(client, tmp_path):
    source = tmp_path / "stock.csv"
    source.write_text("SKU,Name\nA1,Apple\n")
    database = tmp_path / "target.db"
    sqlite3.connect(database).close()
    apply(client, file_profile(tmp_path, str(source)))
    ok, message = validate(client)["target"]
    assert ok and "can be created" in message, message
    with sqlite3.connect(database) as conn:  # the CREATE TABLE was rolled back
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
        conn.execute("CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT)")
    ok, message = validate(client)["target"]
    assert not ok and "lacks the columns" in message and "price" in message, message
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE products")
        build_table(get_entity("products"), "products").create(conn)
    engine.dispose()
    ok, message = validate(client)["target"]
    assert ok and "exists" in message and "writable" in message, message
    with sqlite3.connect(database) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "products" in names and not any(n.startswith("_ferry_validate") for n in names)


def test_missing_file_fails_the_source_check(client, tmp_path):
    apply(client, file_profile(tmp_path, str(tmp_path / "absent.csv")))
    checks = validate(client)
    assert checks["source"] == (False, f"source file {tmp_path / 'absent.csv'} does not exist")
    assert checks["shape"] == (False, "not compared: the source is not reachable")
    assert checks["target"][0]


def test_header_without_a_mapped_column_fails_the_shape_check(client, tmp_path):
    source = tmp_path / "stock.csv"
    source.write_text("SKU,Title\nA1,Apple\n")
    apply(client, file_profile(tmp_path, str(source)))
    checks = validate(client)
    assert checks["source"][0]
    ok, message = checks["shape"]
    assert not ok
    assert message == "source changed shape: missing 'Name', new 'Title'"


def test_http_401_names_the_secret_reference_never_its_value(client, tmp_path, feed_url,
                                                             monkeypatch):
    prof = file_profile(tmp_path, feed_url)
    prof.source.kind = profile_pb2.SOURCE_KIND_HTTP
    prof.source.auth = profile_pb2.AUTH_KIND_BEARER
    prof.source.credentials_ref = "env:SUPPLIER_TOKEN"
    apply(client, prof)
    monkeypatch.setenv("SUPPLIER_TOKEN", "wrong-token-value")
    checks = validate(client)
    ok, message = checks["source"]
    assert not ok
    assert message.startswith(f"HTTP 401 from {feed_url}")
    assert "check FERRY secret env:SUPPLIER_TOKEN" in message
    assert all("wrong-token-value" not in m for _, m in checks.values())

    monkeypatch.setenv("SUPPLIER_TOKEN", TOKEN)
    checks = validate(client)
    assert checks["source"] == (True, f"GET {feed_url} answered HTTP 200 with secret "
                                      "env:SUPPLIER_TOKEN")
    assert checks["shape"][0] and "'Colour'" in checks["shape"][1]
    assert all(TOKEN not in m for _, m in checks.values())

    monkeypatch.delenv("SUPPLIER_TOKEN")
    ok, message = validate(client)["source"]
    assert not ok and "env:SUPPLIER_TOKEN is not set" in message


def test_target_in_a_missing_folder_fails(client, tmp_path):
    source = tmp_path / "stock.csv"
    source.write_text("SKU,Name\nA1,Apple\n")
    folder = tmp_path / "no-such-folder"
    apply(client, file_profile(tmp_path, str(source),
                               target_url=f"sqlite:///{folder / 'target.db'}"))
    ok, message = validate(client)["target"]
    assert not ok and f"folder {folder} does not exist" in message, message
