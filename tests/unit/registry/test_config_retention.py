"""RegistryConfig: janitor, validation target and file roots from FERRY_* variables."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ferry.config import ConfigError
from ferry_registry.config import RegistryConfig


def test_janitor_defaults(tmp_path):
    config = RegistryConfig.from_env({"FERRY_STATE_DIR": str(tmp_path)})
    assert (config.keep_runs_days, config.keep_min_runs) == (90, 100)
    assert config.janitor_interval == timedelta(minutes=10)
    assert config.file_roots is None


def test_janitor_values(tmp_path):
    config = RegistryConfig.from_env({
        "FERRY_STATE_DIR": str(tmp_path), "FERRY_KEEP_RUNS_DAYS": "30",
        "FERRY_KEEP_MIN_RUNS": "0", "FERRY_JANITOR_INTERVAL": "90s",
        "FERRY_FILE_ROOTS": str(tmp_path)})
    assert (config.keep_runs_days, config.keep_min_runs) == (30, 0)
    assert config.janitor_interval == timedelta(seconds=90)
    assert config.file_roots == (tmp_path.resolve(),)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("FERRY_KEEP_RUNS_DAYS", "0", "below the minimum"),
    ("FERRY_KEEP_MIN_RUNS", "-1", "below the minimum"),
    ("FERRY_JANITOR_INTERVAL", "0s", "greater than zero"),
    ("FERRY_JANITOR_INTERVAL", "often", "FERRY_JANITOR_INTERVAL"),
    ("FERRY_FILE_ROOTS", "relative/dir", "FERRY_FILE_ROOTS"),
])
def test_bad_values_fail_fast(tmp_path, name, value, message):
    with pytest.raises(ConfigError, match=message):
        RegistryConfig.from_env({"FERRY_STATE_DIR": str(tmp_path), name: value})
