"""RegistryConfig from FERRY_* variables."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ferry.config import ConfigError
from ferry_registry.config import RegistryConfig


def test_defaults_create_the_state_dir(tmp_path):
    state = tmp_path / "state"
    config = RegistryConfig.from_env({"FERRY_STATE_DIR": str(state)})
    assert state.is_dir()
    assert config.address == "127.0.0.1:50051"
    assert config.database_url == f"sqlite:///{state / 'registry.db'}"
    assert config.log_format == "json" and config.log_level == "info"
    assert config.reaper_interval == timedelta(seconds=2)
    assert config.default_max_attempts == 3


def test_values_are_read(tmp_path):
    config = RegistryConfig.from_env({
        "FERRY_STATE_DIR": str(tmp_path), "FERRY_REGISTRY": "0.0.0.0:6000",
        "FERRY_DATABASE_URL": "postgresql+psycopg://u@db/ferry", "FERRY_LOG_FORMAT": "human",
        "FERRY_LOG_LEVEL": "DEBUG", "FERRY_REAPER_INTERVAL": "500ms",
        "FERRY_DEFAULT_MAX_ATTEMPTS": "5"})
    assert config.address == "0.0.0.0:6000"
    assert config.database_url.startswith("postgresql+psycopg://")
    assert (config.log_format, config.log_level) == ("human", "debug")
    assert config.reaper_interval == timedelta(milliseconds=500)
    assert config.default_max_attempts == 5


@pytest.mark.parametrize(("name", "value", "message"), [
    ("FERRY_LOG_FORMAT", "xml", "FERRY_LOG_FORMAT"),
    ("FERRY_REAPER_INTERVAL", "soon", "FERRY_REAPER_INTERVAL"),
    ("FERRY_REAPER_INTERVAL", "0s", "greater than zero"),
    ("FERRY_DEFAULT_MAX_ATTEMPTS", "0", "below the minimum"),
    ("FERRY_DATABASE_URL", "mysql://x/y", "unsupported database"),
    ("FERRY_REGISTRY", "nohost", "host:port"),
])
def test_bad_values_fail_fast_naming_the_variable(tmp_path, name, value, message):
    with pytest.raises(ConfigError, match=message):
        RegistryConfig.from_env({"FERRY_STATE_DIR": str(tmp_path), name: value})
