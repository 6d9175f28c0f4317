"""The scheduler and the runner as real processes against a registry that
requires mutual TLS and bearer tokens; the runner's FERRY_FILE_ROOTS.

- a run started by an operator is published by the scheduler, executed by
  the runner and completes, every call going over mTLS with a service token;
- bad TLS or token settings stop the scheduler and the runner at start-up
  with one line (a literal token is never echoed);
- a runner with ``FERRY_FILE_ROOTS`` fails, with error class PERMANENT and
  "path not allowed", profiles reading outside the root (``../``, an
  absolute path, a symlink leading out, a sibling-prefix folder, a NUL
  byte, a glob), and still completes one inside it.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ferry.config import Env
from ferry.grpc_client import RegistryClient, is_serving
from ferry.security.auth import BearerTokenInterceptor
from ferry.security.tls import TlsConfig, channel_credentials
from ferry.v1 import run_pb2

from tests.integration.runner import stack
from tests.support.net import free_port, wait_until
from tests.support.processes import BIN, ServiceProcess, base_env, registry_process

pytestmark = [pytest.mark.rabbitmq]


def _token() -> str:
    return secrets.token_urlsafe(24)


class SecureStack:
    """A registry serving mTLS with a token table, and the client settings."""

    def __init__(self, tmp: Path, pki) -> None:
        self.tmp = tmp
        self.pki = pki
        self.service_token = _token()
        self.operator_token = _token()
        secrets_dir = tmp / "secrets"
        secrets_dir.mkdir()
        self.table = secrets_dir / "tokens"
        self.table.write_text(f"ops:operator:{self.operator_token}\n"
                              f"services:service:{self.service_token}\n")
        self.service_token_file = secrets_dir / "service-token"
        self.service_token_file.write_text(self.service_token + "\n")
        self.registry = registry_process(
            tmp, FERRY_TLS_CERT=str(pki.cert("server")), FERRY_TLS_KEY=str(pki.key("server")),
            FERRY_TLS_CA=str(pki.cert("ca")), FERRY_TLS_CLIENT_AUTH="require",
            FERRY_AUTH_TOKENS=f"file:{self.table}")

    def client_env(self) -> dict[str, str]:
        """What a scheduler or runner needs to reach the registry."""
        return {"FERRY_TLS_CA": str(self.pki.cert("ca")),
                "FERRY_TLS_CLIENT_CERT": str(self.pki.cert("client")),
                "FERRY_TLS_CLIENT_KEY": str(self.pki.key("client")),
                "FERRY_TOKEN": f"file:{self.service_token_file}"}

    def operator_client(self) -> RegistryClient:
        tls = TlsConfig.from_env(Env({k: v for k, v in self.client_env().items()
                                      if k != "FERRY_TOKEN"}))
        return RegistryClient(self.registry.address, credentials=channel_credentials(tls),
                              interceptors=[BearerTokenInterceptor(self.operator_token)])

    def start(self) -> None:
        self.registry.start(wait_healthy=False)
        tls = TlsConfig.from_env(Env(self.client_env()))

        def serving() -> bool:
            if not self.registry.alive():
                raise RuntimeError(f"registry exited:\n{self.registry.output()[-3000:]}")
            return is_serving(self.registry.address, credentials=channel_credentials(tls))

        wait_until(serving, timeout=30, what="registry (mTLS) to serve")


@pytest.fixture
def secure(tmp_path: Path, pki) -> Iterator[SecureStack]:
    secure = SecureStack(tmp_path, pki)
    try:
        secure.start()
        yield secure
    finally:
        secure.registry.stop()


def _start_all(*procs: ServiceProcess) -> None:
    for proc in procs:
        proc.start()


def test_scheduler_and_runner_complete_a_run_over_mtls_with_tokens(
        tmp_path: Path, secure: SecureStack, queues: stack.Queues) -> None:
    metrics_port = free_port()
    scheduler = stack.scheduler_process(tmp_path, secure.registry.address, queues,
                                        FERRY_METRICS_ADDRESS=f"127.0.0.1:{metrics_port}",
                                        **secure.client_env())
    runner = stack.runner_process(tmp_path, secure.registry.address, queues,
                                  **secure.client_env())
    try:
        _start_all(scheduler, runner)
        with secure.operator_client() as client:
            csv_path = stack.write_products_csv(tmp_path / "products.csv", 200)
            stack.apply_profile(client, stack.products_profile("secure", csv_path))
            run = stack.start_run(client, "secure")
            done = stack.wait_terminal(client, run.id, 60,
                                       stack.assert_alive(scheduler, runner, secure.registry))
            assert stack.status_name(done) == "RUN_STATUS_COMPLETED", done
            assert done.counts.created == 200 and done.runner_id == "runner"
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        assert "ferry_" in metrics  # the scheduler serves FERRY_METRICS_ADDRESS
        # Nobody was refused, and the token never reached a log line.
        registry_log = secure.registry.output()
        assert "refused" not in registry_log, registry_log[-3000:]
        for proc in (scheduler, runner, secure.registry):
            assert secure.service_token not in proc.output()
            assert secure.operator_token not in proc.output()
        assert "mutual TLS, bearer token" in runner.output()
        assert "mutual TLS, bearer token" in scheduler.output()
    finally:
        for proc in (scheduler, runner):
            proc.stop()


def test_a_plaintext_runner_is_refused_by_the_mtls_registry(
        tmp_path: Path, secure: SecureStack, queues: stack.Queues) -> None:
    """Without the TLS settings the runner cannot claim anything: the run stays QUEUED."""
    runner = stack.runner_process(tmp_path, secure.registry.address, queues,
                                  FERRY_TOKEN=f"file:{secure.service_token_file}")
    try:
        runner.start()
        with secure.operator_client() as client:
            csv_path = stack.write_products_csv(tmp_path / "p.csv", 5)
            stack.apply_profile(client, stack.products_profile("plain", csv_path))
            run = stack.start_run(client, "plain")
            queues.publish_runs([run])
            wait_until(lambda: "ClaimRun" in runner.output(), timeout=20,
                       what="the runner to fail to claim")
            assert stack.get_run(client, run.id).status == run_pb2.RUN_STATUS_QUEUED
    finally:
        runner.stop()


def _fails_at_start(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, env=base_env(**env), capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("service", ["ferry-scheduler", "ferry-runner"])
def test_bad_tls_or_token_settings_stop_the_service_with_one_line(
        tmp_path: Path, pki, service: str) -> None:
    common = {"FERRY_REGISTRY": "127.0.0.1:1", "FERRY_AMQP_URL": "amqp://127.0.0.1:1/%2F",
              "FERRY_STATE_DIR": str(tmp_path)}
    argv = [str(BIN / service)]
    missing = _fails_at_start(argv, {**common, "FERRY_TLS_CA": str(tmp_path / "nope.crt")})
    assert "FERRY_TLS_CA" in missing and "nope.crt" in missing
    half = _fails_at_start(argv, {**common, "FERRY_TLS_CLIENT_CERT": str(pki.cert("client"))})
    assert "FERRY_TLS_CLIENT_KEY" in half
    literal = _token()
    line = _fails_at_start(argv, {**common, "FERRY_TOKEN": literal})
    assert "FERRY_TOKEN" in line and literal not in line
    unset = _fails_at_start(argv, {**common, "FERRY_TOKEN": "env:FERRY_TEST_NO_SUCH_VAR"})
    assert "FERRY_TOKEN" in unset
    notpem = tmp_path / "garbage.crt"
    notpem.write_text("not a certificate")
    garbage = _fails_at_start(argv, {**common, "FERRY_TLS_CA": str(notpem)})
    assert "PEM" in garbage


# -- FERRY_FILE_ROOTS ---------------------------------------------------------------


@pytest.fixture
def roots_layout(tmp_path: Path) -> dict[str, Path]:
    base = tmp_path / "x"
    imports, sibling, outside = base / "imports", base / "imports2", tmp_path / "outside"
    for folder in (imports, sibling, outside):
        folder.mkdir(parents=True)
    good = stack.write_products_csv(imports / "good.csv", 10)
    stack.write_products_csv(sibling / "products.csv", 10)
    stack.write_products_csv(outside / "products.csv", 10)
    os.symlink(outside / "products.csv", imports / "link.csv")
    return {"root": imports, "good": good, "sibling": sibling, "outside": outside}


def test_runner_with_file_roots_refuses_locations_outside_the_root(
        tmp_path: Path, roots_layout: dict[str, Path], queues: stack.Queues) -> None:
    registry = registry_process(tmp_path).start()
    root = roots_layout["root"]
    runner = stack.runner_process(tmp_path, registry.address, queues,
                                  FERRY_FILE_ROOTS=str(root))
    scheduler = stack.scheduler_process(tmp_path, registry.address, queues)
    escapes = {
        "dotdot": "../../outside/products.csv",
        "dotdot-abs": f"{root}/../imports2/products.csv",
        "absolute": str(roots_layout["outside"] / "products.csv"),
        "symlink": str(root / "link.csv"),
        "sibling": str(roots_layout["sibling"] / "products.csv"),
        "nul": f"{root}/good.csv\x00.txt",
        "glob-out": str(roots_layout["outside"]) + "/*.csv",
    }
    try:
        _start_all(runner, scheduler)
        alive = stack.assert_alive(runner, scheduler, registry)
        with RegistryClient(registry.address) as client:
            started = {}
            for name, location in escapes.items():
                profile = stack.products_profile(f"esc-{name}", roots_layout["good"],
                                                 location=location, max_attempts=1)
                stack.apply_profile(client, profile)
                started[name] = stack.start_run(client, f"esc-{name}")
            good = stack.products_profile("inside", roots_layout["good"], location="good.csv")
            stack.apply_profile(client, good)
            inside = stack.start_run(client, "inside")
            for name, run in started.items():
                done = stack.wait_terminal(client, run.id, 60, alive)
                assert stack.status_name(done) == "RUN_STATUS_FAILED", (name, done)
                assert done.error_class == run_pb2.ERROR_CLASS_PERMANENT, (name, done)
                assert "path not allowed" in done.error_message, (name, done.error_message)
                assert done.counts.rows_read == 0
            done = stack.wait_terminal(client, inside.id, 60, alive)
            assert stack.status_name(done) == "RUN_STATUS_COMPLETED", done
            assert done.counts.created == 10
        # Only the good file's 10 rows were ever written.
        assert stack.target_rows(f"sqlite:///{tmp_path / 'target.db'}") == 10
        assert "file_roots" in runner.output()
    finally:
        for proc in (runner, scheduler, registry):
            proc.stop()


def test_runner_refuses_a_file_root_that_is_not_a_folder(tmp_path: Path) -> None:
    line = _fails_at_start([str(BIN / "ferry-runner")], {
        "FERRY_FILE_ROOTS": str(tmp_path / "missing"), "FERRY_STATE_DIR": str(tmp_path)})
    assert "FERRY_FILE_ROOTS" in line
