"""Secrets never leak (invariant 9), end to end with real processes.

Planted, unique values:

- the registry's database password (a PostgreSQL role created for the test;
  the URL holds the password even where the server trusts local logins);
- an AMQP password (a RabbitMQ user created with ``rabbitmqctl`` and deleted
  after) used by the registry, the scheduler and the runner;
- an API token an HTTP source reads through ``env:SHOP_API_TOKEN`` (the
  server answers 401 once, then the data);
- the bearer tokens of ``FERRY_TOKEN`` (service) and of an operator.

The flow has a credentials failure (the 401), a run failing on bad rows and
completed runs. Then every log line of every process, every run record
(GetRun, ListRuns), run event, rejected row, every file the processes wrote
(samples, rejected rows, state) and the details of refused gRPC calls are
searched for each planted value: none may appear.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from ferry.grpc_client import RegistryClient, all_pages
from ferry.security.auth import BearerTokenInterceptor
from ferry.v1 import (
    execution_service_pb2,
    profile_pb2,
    run_pb2,
    run_service_pb2,
)
from google.protobuf.json_format import MessageToJson

from tests.faults import hostile_files as hf
from tests.integration.runner import stack
from tests.support import databases
from tests.support.needs import unavailable
from tests.support.net import free_port
from tests.support.processes import registry_process

RABBITMQCTL = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"

pytestmark = [pytest.mark.rabbitmq]


def _secret(label: str) -> str:
    return f"{label}{secrets.token_hex(12)}"


def _rabbitmqctl(*args: str) -> None:
    subprocess.run([RABBITMQCTL, *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def amqp_user() -> Iterator[tuple[str, str]]:
    if not Path(RABBITMQCTL).exists():
        unavailable("rabbitmqctl is not installed")
    user, password = f"ferry-secret-{uuid.uuid4().hex[:8]}", _secret("AmqpPw")
    try:
        _rabbitmqctl("add_user", user, password)
    except subprocess.CalledProcessError as exc:
        unavailable(f"cannot add a RabbitMQ user: {exc.stderr!r}")
    try:
        _rabbitmqctl("set_permissions", "-p", "/", user, ".*", ".*", ".*")
        yield user, password
    finally:
        subprocess.run([RABBITMQCTL, "delete_user", user], capture_output=True, timeout=60)


@pytest.fixture
def pg_registry_url() -> Iterator[tuple[str, str]]:
    """A database owned by a role with a planted password."""
    role, password = f"ferry_secret_{uuid.uuid4().hex[:8]}", _secret("DbPw")
    admin = sa.create_engine(databases.ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
            conn.exec_driver_sql(f'CREATE DATABASE "{role}" OWNER {role}')
    except sa.exc.SQLAlchemyError as exc:
        admin.dispose()
        unavailable(f"PostgreSQL is not available: {exc}")
    url = sa.make_url(databases.ADMIN_URL).set(username=role, password=password,
                                                database=role)
    try:
        yield url.render_as_string(hide_password=False), password
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{role}" WITH (FORCE)')
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()


class ShopApi:
    """An HTTP source that wants ``Bearer <token>``; the first request gets 401."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.requests = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                api.requests += 1
                if api.requests == 1 or self.headers.get("Authorization") != f"Bearer {api.token}":
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", "Bearer")
                    self.end_headers()
                    return
                body = (hf.HEADER + hf.rows(30)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/export/products.csv"

    def __enter__(self) -> ShopApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _http_profile(url: str) -> profile_pb2.Profile:
    profile = hf.profile_for("shop-http", Path("x.csv"), hf.CSV, {})
    profile.source.CopyFrom(profile_pb2.Source(
        kind=profile_pb2.SOURCE_KIND_HTTP, location=url, credentials_ref="env:SHOP_API_TOKEN",
        auth=profile_pb2.AUTH_KIND_BEARER,
        format=profile_pb2.Format(kind=profile_pb2.FORMAT_KIND_CSV)))
    profile.retry.max_attempts = 1
    return profile


def _bad_rows_profile(path: Path) -> profile_pb2.Profile:
    path.write_text(hf.HEADER + hf.rows(5) + "".join(
        f"SKU-BAD-{i},Broken {i},not-a-price,1\n" for i in range(5)))
    profile = hf.profile_for("bad-rows", path, hf.CSV, {})
    profile.error_threshold.CopyFrom(profile_pb2.ErrorThreshold(max_errors=0))
    profile.retry.max_attempts = 1
    return profile


@pytest.mark.postgres
def test_planted_secrets_never_appear_anywhere(tmp_path: Path, amqp_user: tuple[str, str],
                                               pg_registry_url: tuple[str, str]) -> None:
    user, amqp_password = amqp_user
    db_url, db_password = pg_registry_url
    api_token, service_token, operator_token = (_secret("ApiTok"), _secret("SvcTok"),
                                                _secret("OpsTok"))
    planted = {"database password": db_password, "AMQP password": amqp_password,
               "API token": api_token, "service token": service_token,
               "operator token": operator_token}
    secret_dir = tmp_path / "secrets"
    secret_dir.mkdir()
    (secret_dir / "tokens").write_text(f"ops:operator:{operator_token}\n"
                                       f"svc:service:{service_token}\n")
    (secret_dir / "token").write_text(service_token + "\n")
    amqp_url = f"amqp://{user}:{amqp_password}@127.0.0.1:5672/%2F"
    queues = stack.Queues(amqp_url).declare()
    client_env = {"FERRY_TOKEN": f"file:{secret_dir / 'token'}"}
    registry = registry_process(tmp_path, database_url=db_url, FERRY_AMQP_URL=amqp_url,
                                FERRY_AMQP_PREFIX=queues.prefix,
                                FERRY_AUTH_TOKENS=f"file:{secret_dir / 'tokens'}",
                                FERRY_LOG_LEVEL="debug")
    procs = [registry]
    refusals: list[str] = []
    runs: list[run_pb2.Run] = []
    try:
        registry.start()
        scheduler = stack.scheduler_process(tmp_path, registry.address, queues,
                                            FERRY_LOG_LEVEL="debug", **client_env)
        runner = stack.runner_process(tmp_path, registry.address, queues,
                                      SHOP_API_TOKEN=api_token, FERRY_LOG_LEVEL="debug",
                                      **client_env)
        procs += [scheduler, runner]
        scheduler.start()
        runner.start()
        alive = stack.assert_alive(*procs)
        ops = RegistryClient(registry.address,
                             interceptors=[BearerTokenInterceptor(operator_token)])
        with ShopApi(api_token) as api, ops:
            stack.apply_profile(ops, _http_profile(api.url))
            first = stack.wait_terminal(ops, stack.start_run(ops, "shop-http").id, 60, alive)
            assert first.error_class == run_pb2.ERROR_CLASS_CREDENTIALS, first
            second = stack.wait_terminal(ops, stack.start_run(ops, "shop-http").id, 60, alive)
            assert stack.status_name(second) == "RUN_STATUS_COMPLETED", second
            assert api.requests == 2
            stack.apply_profile(ops, _bad_rows_profile(tmp_path / "bad.csv"))
            bad = stack.wait_terminal(ops, stack.start_run(ops, "bad-rows").id, 60, alive)
            assert stack.status_name(bad) == "RUN_STATUS_FAILED", bad
            good_path, kind, options = hf.good_csv(tmp_path, 10)
            stack.apply_profile(ops, hf.profile_for("good", good_path, kind, options))
            good = stack.wait_terminal(ops, stack.start_run(ops, "good").id, 60, alive)
            assert stack.status_name(good) == "RUN_STATUS_COMPLETED", good

            # Refused calls: an operator token on a service method, a bad token.
            for call in (
                    lambda: ops.execution.ClaimRun(execution_service_pb2.ClaimRunRequest(
                        run_id=good.id, runner_id="intruder")),
                    lambda: RegistryClient(registry.address, interceptors=[
                        BearerTokenInterceptor(operator_token + "x")]).runs.ListRuns(
                        run_service_pb2.ListRunsRequest())):
                with pytest.raises(grpc.RpcError) as refused:
                    call()
                refusals.append(f"{refused.value.code()} {refused.value.details()}")

            # Everything the API shows about the runs.
            records = list(all_pages(ops.runs.ListRuns, run_service_pb2.ListRunsRequest(
                page_size=100), "runs"))
            assert len(records) == 4
            for run in records:
                runs.append(run)
                refusals.append(MessageToJson(ops.runs.GetRun(
                    run_service_pb2.GetRunRequest(id=run.id)).run))
                for event in all_pages(ops.runs.ListRunEvents,
                                       run_service_pb2.ListRunEventsRequest(
                                           run_id=run.id, page_size=500), "events"):
                    refusals.append(MessageToJson(event))
                for row in all_pages(ops.runs.ListRejectedRows,
                                     run_service_pb2.ListRejectedRowsRequest(
                                         run_id=run.id, page_size=500), "rows"):
                    refusals.append(MessageToJson(row))
    finally:
        for proc in reversed(procs):
            proc.stop()
        queues.delete()

    texts = {"api": "\n".join(refusals) + "\n".join(MessageToJson(r) for r in runs)}
    for proc in procs:
        texts[f"log of {proc.name}"] = proc.output()
    # Every file the processes wrote: logs, state, samples, rejected rows, targets.
    for path in tmp_path.rglob("*"):
        if path.is_file() and secret_dir not in path.parents:
            texts[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    # Controls: the URLs holding the passwords were logged (masked), and the
    # 401 was recorded, so the search below looks where a leak would be.
    assert user in texts["log of runner"]
    assert sa.make_url(db_url).username in texts[f"log of {registry.name}"]
    assert any("CREDENTIALS" in t or "401" in t for t in texts.values())
    leaks = [(what, where) for what, value in planted.items()
             for where, text in texts.items() if value in text]
    assert not leaks, f"planted secrets found: {leaks}"
