"""The ferry.v1 contract: buf lint (STANDARD) is clean and the committed
generated code is exactly what `make proto` produces."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROTOS = ROOT / "protos"
GENERATED = ROOT / "common" / "ferry" / "v1"
BUF = ROOT / "node_modules" / ".bin" / "buf"


def _buf_lint(protos_dir: Path) -> subprocess.CompletedProcess[str]:
    if not BUF.exists():
        pytest.fail("buf is not installed: run `make tools` (npm ci) first")
    return subprocess.run([str(BUF), "lint"], cwd=protos_dir, capture_output=True, text=True,
                          timeout=120)


def test_buf_lint_standard_is_clean() -> None:
    result = _buf_lint(PROTOS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_buf_lint_catches_a_violation(tmp_path: Path) -> None:
    copy = tmp_path / "protos"
    shutil.copytree(PROTOS, copy)
    bad = copy / "ferry" / "v1" / "profile.proto"
    bad.write_text(bad.read_text() + "\nenum Colour {\n  RED = 0;\n}\n")
    result = _buf_lint(copy)
    assert result.returncode != 0
    assert "ENUM_ZERO_VALUE_SUFFIX" in result.stdout or "UNSPECIFIED" in result.stdout


def test_generated_code_matches_protos(tmp_path: Path) -> None:
    protos = sorted(str(p.relative_to(PROTOS)) for p in (PROTOS / "ferry" / "v1").glob("*.proto"))
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I", str(PROTOS),
         f"--python_out={tmp_path}", f"--pyi_out={tmp_path}", f"--grpc_python_out={tmp_path}",
         *protos],
        check=True, cwd=PROTOS, timeout=120)
    fresh = tmp_path / "ferry" / "v1"
    names = sorted(p.name for p in fresh.iterdir())
    committed = sorted(p.name for p in GENERATED.iterdir()
                       if p.name != "__init__.py" and p.name != "__pycache__")
    assert names == committed, "run `make proto`: generated files differ from the protos"
    _, mismatch, errors = filecmp.cmpfiles(fresh, GENERATED, names, shallow=False)
    assert not mismatch and not errors, f"stale generated code, run `make proto`: {mismatch}"


def test_every_service_is_versioned_and_suffixed() -> None:
    from ferry.v1 import (
        dispatch_service_pb2,
        execution_service_pb2,
        profile_service_pb2,
        run_service_pb2,
        schedule_service_pb2,
    )
    modules = [dispatch_service_pb2, execution_service_pb2, profile_service_pb2,
               run_service_pb2, schedule_service_pb2]
    names = [s.full_name for m in modules for s in m.DESCRIPTOR.services_by_name.values()]
    assert sorted(names) == ["ferry.v1.DispatchService", "ferry.v1.ExecutionService",
                             "ferry.v1.ProfileService", "ferry.v1.RunService",
                             "ferry.v1.ScheduleService"]
