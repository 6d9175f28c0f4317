"""A gRPC client that is not ours (buf curl) finds and calls the registry's
services through server reflection alone."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUF = ROOT / "node_modules" / ".bin" / "buf"


def _buf_curl(*args: str) -> subprocess.CompletedProcess[str]:
    if not BUF.exists():
        pytest.fail("buf is not installed: run `make tools` first")
    return subprocess.run([str(BUF), "curl", "--protocol", "grpc", "--http2-prior-knowledge",
                           *args], capture_output=True, text=True, timeout=60)


def test_reflection_lists_every_ferry_service(registry) -> None:
    result = _buf_curl("--list-services", f"http://{registry.address}")
    assert result.returncode == 0, result.stderr
    services = set(result.stdout.split())
    assert {"ferry.v1.ProfileService", "ferry.v1.ScheduleService", "ferry.v1.RunService",
            "ferry.v1.DispatchService", "ferry.v1.ExecutionService",
            "grpc.health.v1.Health"} <= services


def test_foreign_client_applies_and_reads_a_profile(registry) -> None:
    profile = {
        "name": "buf-curl-products",
        "entityType": "products",
        "operation": "OPERATION_IMPORT",
        "source": {"kind": "SOURCE_KIND_FILE", "location": "/data/products.csv",
                   "format": {"kind": "FORMAT_KIND_CSV"}},
        "mapping": {"fields": [{"target": "sku", "source": "SKU"},
                               {"target": "name", "source": "Name"}]},
    }
    base = f"http://{registry.address}/ferry.v1.ProfileService"
    applied = _buf_curl("-d", json.dumps({"profile": profile}), f"{base}/ApplyProfile")
    assert applied.returncode == 0, applied.stderr
    got = _buf_curl("-d", json.dumps({"name": "buf-curl-products"}), f"{base}/GetProfile")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["profile"]["entityType"] == "products"


def test_foreign_client_sees_invalid_argument(registry) -> None:
    result = _buf_curl("-d", json.dumps({"pageSize": -1}),
                       f"http://{registry.address}/ferry.v1.RunService/ListRuns")
    assert result.returncode != 0
    assert "invalid_argument" in (result.stdout + result.stderr).lower()
