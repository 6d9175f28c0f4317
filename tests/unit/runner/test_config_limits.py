"""The runner's FERRY_FILE_ROOTS and FERRY_MAX_* settings, and ClientSecurity."""

from __future__ import annotations

from pathlib import Path

import pytest
from ferry.config import ConfigError, Env
from ferry.security.clients import ClientSecurity
from ferry_domain.engine.limits import GIB, MIB, SourceLimits
from ferry_runner.config import RunnerConfig


def test_defaults_are_the_engine_defaults() -> None:
    config = RunnerConfig.from_env({})
    assert config.limits == SourceLimits()
    assert config.limits.max_source_bytes == 5 * GIB
    assert config.file_roots is None


def test_sizes_and_limits_are_read() -> None:
    config = RunnerConfig.from_env({
        "FERRY_MAX_SOURCE_BYTES": "500MB", "FERRY_MAX_DECOMPRESSED_BYTES": "0",
        "FERRY_MAX_COMPRESSION_RATIO": "50", "FERRY_MAX_FIELD_BYTES": "1MiB",
        "FERRY_MAX_COLUMNS": "100", "FERRY_MAX_JSON_DEPTH": "10",
        "FERRY_MAX_SHEET_CELLS": "2000000"})
    assert config.limits == SourceLimits(
        max_source_bytes=500_000_000, max_decompressed_bytes=0, max_compression_ratio=50,
        max_field_bytes=MIB, max_columns=100, max_json_depth=10, max_sheet_cells=2_000_000)
    assert config.limits.max_line_bytes == 4 * MIB


@pytest.mark.parametrize(("name", "value"), [
    ("FERRY_MAX_SOURCE_BYTES", "lots"), ("FERRY_MAX_SOURCE_BYTES", "5 parsecs"),
    ("FERRY_MAX_SOURCE_BYTES", "-1"), ("FERRY_MAX_COLUMNS", "0"),
    ("FERRY_MAX_JSON_DEPTH", "1"), ("FERRY_MAX_COMPRESSION_RATIO", "x"),
    ("FERRY_MAX_SHEET_CELLS", "-5"), ("FERRY_MAX_SHEET_CELLS", "many")])
def test_bad_limits_fail_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        RunnerConfig.from_env({name: value})


def test_file_roots(tmp_path: Path) -> None:
    config = RunnerConfig.from_env({"FERRY_FILE_ROOTS": str(tmp_path)})
    assert config.file_roots == (tmp_path.resolve(),)
    with pytest.raises(ConfigError, match="FERRY_FILE_ROOTS"):
        RunnerConfig.from_env({"FERRY_FILE_ROOTS": "relative/dir"})


def test_client_security_off_by_default() -> None:
    security = ClientSecurity.from_env(Env({}))
    assert security.credentials is None and security.interceptors == []
    assert security.options == [] and security.describe == "plaintext, no token"
    assert security.server_credentials() is None


def test_client_security_token_is_added_to_the_redactor(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("s3cr3t-token-value-0123456789\n")
    security = ClientSecurity.from_env(Env({"FERRY_TOKEN": f"file:{token_file}"}))
    assert security.describe == "plaintext, bearer token"
    assert security.redactor.redact("sent s3cr3t-token-value-0123456789") == "sent ***"
    client = security.registry_client("127.0.0.1:1")
    client.close()


def test_client_security_refuses_a_literal_token() -> None:
    with pytest.raises(ConfigError) as caught:
        ClientSecurity.from_env(Env({"FERRY_TOKEN": "literal-token-0123456789abcdef"}))
    assert "literal-token" not in str(caught.value)


def test_client_only_client_auth_setting_does_not_break_health() -> None:
    # FERRY_TLS_CLIENT_AUTH=require without a server certificate: health stays plaintext.
    security = ClientSecurity.from_env(Env({"FERRY_TLS_CLIENT_AUTH": "require"}))
    assert security.server_credentials() is None
