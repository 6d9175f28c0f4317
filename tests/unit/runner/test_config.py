"""RunnerConfig from the environment: defaults and fail-fast errors."""

from __future__ import annotations

import subprocess

import pytest
from ferry.config import ConfigError
from ferry_runner.config import DEFAULT_HEALTH_ADDRESS, RunnerConfig
from ferry_runner.metrics import RunnerMetrics

from tests.support.processes import BIN, base_env


def test_defaults() -> None:
    config = RunnerConfig.from_env({})
    assert config.registry == "127.0.0.1:50051"
    assert config.amqp_url == "amqp://guest:guest@127.0.0.1:5672/%2F"
    assert config.amqp_prefix == "ferry"
    assert config.prefetch == 1
    assert config.lease_seconds == 30 and config.heartbeat_interval == 10
    assert config.shutdown_grace_seconds == 20
    assert config.target_url.startswith("sqlite:///") and \
        config.target_url.endswith(".ferry/target.db")
    assert config.health_address == DEFAULT_HEALTH_ADDRESS
    assert "-" in config.runner_id


def test_values() -> None:
    config = RunnerConfig.from_env({
        "FERRY_RUNNER_ID": "r-1", "FERRY_RUNNER_PREFETCH": "4", "FERRY_RUN_LEASE": "3s",
        "FERRY_SHUTDOWN_GRACE": "500ms", "FERRY_STATE_DIR": "/tmp/x",
        "FERRY_AMQP_PREFIX": "t1", "FERRY_LOG_FORMAT": "human"})
    assert (config.runner_id, config.prefetch, config.lease_seconds,
            config.shutdown_grace_seconds, config.amqp_prefix) == ("r-1", 4, 3.0, 0.5, "t1")
    assert config.target_url == "sqlite:////tmp/x/target.db"
    assert config.heartbeat_interval == 1.0


@pytest.mark.parametrize("env", [
    {"FERRY_RUNNER_PREFETCH": "0"},
    {"FERRY_RUNNER_PREFETCH": "many"},
    {"FERRY_RUN_LEASE": "soon"},
    {"FERRY_RUN_LEASE": "200ms"},
    {"FERRY_RUN_LEASE": "2h"},
    {"FERRY_AMQP_URL": "http://broker"},
    {"FERRY_REGISTRY": "nohostport"},
    {"FERRY_LOG_FORMAT": "xml"},
    {"FERRY_METRICS_ADDRESS": "nowhere"},
])
def test_bad_values_fail_fast(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        RunnerConfig.from_env(env)


def test_startup_error_is_one_line_and_exit_1() -> None:
    done = subprocess.run([str(BIN / "ferry-runner")], capture_output=True, text=True,
                          env=base_env(FERRY_RUNNER_PREFETCH="zero"), timeout=30)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "FERRY_RUNNER_PREFETCH" in lines[0], done.stderr


def test_metrics_counts_by_name_and_label() -> None:
    metrics = RunnerMetrics()
    metrics.inc("duplicates", outcome="CLAIM_OUTCOME_FINISHED")
    metrics.inc("duplicates", outcome="CLAIM_OUTCOME_STALE")
    metrics.inc("claimed")
    assert metrics.get("duplicates") == 2 and metrics.get("claimed") == 1
    with pytest.raises(KeyError):
        metrics.inc("made_up")


def test_metrics_are_forwarded_to_prometheus() -> None:
    from ferry.metrics import FerryMetrics
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    metrics = RunnerMetrics(FerryMetrics(registry))
    metrics.inc("claimed")
    metrics.inc("duplicates", outcome="CLAIM_OUTCOME_FINISHED")
    metrics.inc("poison_messages")
    metrics.inc("transient_retries", by=2)
    metrics.inc("lease_lost")  # no Prometheus counterpart: kept locally only

    def value(name: str, **labels: str) -> float:
        return registry.get_sample_value(name, labels) or 0.0

    assert value("ferry_run_requests_consumed_total", result="claimed") == 1
    assert value("ferry_run_requests_consumed_total", result="duplicate") == 1
    assert value("ferry_run_requests_consumed_total", result="dead_lettered") == 1
    assert value("ferry_retries_total", kind="source_read") == 2
    assert metrics.get("lease_lost") == 1


def test_health_port_taken_is_one_line_and_exit_1() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        done = subprocess.run([str(BIN / "ferry-runner")], capture_output=True, text=True,
                              env=base_env(FERRY_RUNNER_HEALTH=address), timeout=30)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "FERRY_RUNNER_HEALTH" in lines[0], done.stderr
