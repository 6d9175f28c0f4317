"""The scheduler's configuration from FERRY_* variables."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ferry.config import ConfigError
from ferry_scheduler.config import SchedulerConfig


def test_defaults():
    config = SchedulerConfig.from_env({})
    assert config.registry == "127.0.0.1:50051"
    assert config.amqp_url == "amqp://guest:guest@127.0.0.1:5672/%2F"
    assert config.amqp_prefix == "ferry"
    assert config.health_address is None
    assert config.poll_interval == timedelta(seconds=1)
    assert config.schedule_lease == timedelta(seconds=30)
    assert config.outbox_sweep_interval == timedelta(seconds=5)
    assert config.republish_after == timedelta(seconds=30)
    assert "-" in config.scheduler_id


def test_values_from_env():
    config = SchedulerConfig.from_env({
        "FERRY_REGISTRY": "registry:50051", "FERRY_SCHEDULER_ID": "s-1",
        "FERRY_SCHEDULER_HEALTH": "0.0.0.0:50061", "FERRY_SCHEDULER_POLL_INTERVAL": "250ms",
        "FERRY_SCHEDULE_LEASE": "10s", "FERRY_OUTBOX_SWEEP_INTERVAL": "2s",
        "FERRY_REPUBLISH_AFTER": "1m", "FERRY_AMQP_PREFIX": "ferry-x",
        "FERRY_LOG_FORMAT": "human"})
    assert config.scheduler_id == "s-1"
    assert config.health_address == "0.0.0.0:50061"
    assert config.poll_interval == timedelta(milliseconds=250)
    assert config.republish_after == timedelta(minutes=1)
    assert config.amqp_prefix == "ferry-x" and config.log_format == "human"


@pytest.mark.parametrize("env, message", [
    ({"FERRY_SCHEDULE_LEASE": "soon"}, "FERRY_SCHEDULE_LEASE"),
    ({"FERRY_SCHEDULE_LEASE": "1s", "FERRY_SCHEDULER_POLL_INTERVAL": "2s"}, "longer"),
    ({"FERRY_SCHEDULE_LEASE": "2h"}, "1h"),
    ({"FERRY_SCHEDULER_POLL_INTERVAL": "0"}, "positive"),
    ({"FERRY_REGISTRY": "nohost"}, "host:port"),
    ({"FERRY_AMQP_URL": "http://x"}, "amqp://"),
    ({"FERRY_SCHEDULER_HEALTH": "8080"}, "host:port"),
    ({"FERRY_LOG_FORMAT": "xml"}, "FERRY_LOG_FORMAT"),
])
def test_bad_values_fail_fast_naming_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        SchedulerConfig.from_env(env)
