"""Helpers for engine tests: profiles from plain dicts, CSV files, SQLite
targets in tmp_path."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from ferry.v1 import profile_pb2
from google.protobuf import json_format


def make_profile(data: dict[str, Any]) -> profile_pb2.Profile:
    base: dict[str, Any] = {
        "name": "t",
        "entity_type": "products",
        "operation": "OPERATION_IMPORT",
    }
    base.update(data)
    return json_format.ParseDict(base, profile_pb2.Profile())


def csv_profile(path: Path, fields: list[dict], **extra: Any) -> profile_pb2.Profile:
    data: dict[str, Any] = {
        "source": {"kind": "SOURCE_KIND_FILE", "location": str(path)},
        "mapping": {"fields": fields},
    }
    for key, value in extra.items():
        if key in ("forward_fill", "filters", "key_fields", "required_fields", "defaults"):
            data["mapping"][key] = value
        elif key == "format":
            data["source"]["format"] = value
        elif key == "options":
            data["source"]["options"] = value
        else:
            data[key] = value
    return make_profile(data)


PRODUCT_FIELDS = [
    {"target": "sku", "source": "sku", "transforms": [{"name": "trim"}]},
    {"target": "name", "source": "name"},
    {"target": "price", "source": "price", "transforms": [{"name": "decimal"}]},
    {"target": "quantity", "source": "qty", "transforms": [{"name": "integer"}]},
]


def rows_of(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def sqlite_target(tmp_path: Path) -> tuple[str, Path]:
    db = tmp_path / "target.db"
    return f"sqlite:///{db}", db


@pytest.fixture
def write(tmp_path: Path):
    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            content = content.encode(encoding)
        path.write_bytes(content)
        return path

    return _write


class EngineHelpers:
    make_profile = staticmethod(make_profile)
    csv_profile = staticmethod(csv_profile)
    rows_of = staticmethod(rows_of)
    PRODUCT_FIELDS = PRODUCT_FIELDS


@pytest.fixture
def eng() -> type[EngineHelpers]:
    return EngineHelpers
