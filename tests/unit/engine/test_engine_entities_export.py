"""Entity registry (built-ins, register_entity, the ferry.entities entry
point), connectors, and exports to CSV, JSON and XLSX."""

from __future__ import annotations

import csv
import json
import sys
import textwrap
from pathlib import Path

import pytest
from ferry_domain.engine import (
    EntitySchema,
    FieldSpec,
    PermanentSourceError,
    check_profile,
    get_entity,
    list_entities,
    register_entity,
    run_profile,
)
from ferry_domain.engine import entities as entities_module
from ferry_domain.engine.sources import connectors
from ferry_domain.runs.states import RunStatus
from openpyxl import load_workbook


def test_builtin_entities_and_keys():
    names = {e.name: e.key for e in list_entities()}
    assert names["products"] == ("sku",)
    assert names["customers"] == ("email",)
    assert names["inventory"] == ("sku", "location")
    assert names["prices"] == ("sku", "currency", "price_list")
    with pytest.raises(KeyError):
        get_entity("nope")


def test_customers_email_is_normalised_and_validated(write, sqlite_target, eng):
    url, db = sqlite_target
    path = write(
        "c.csv", "email,name\n  Ada@Example.COM ,Ada\nada@example.com,dup\nnot-an-email,x\n"
    )
    profile = eng.make_profile(
        {
            "entity_type": "customers",
            "source": {"kind": "SOURCE_KIND_FILE", "location": str(path)},
            "mapping": {
                "fields": [
                    {"target": "email", "source": "email"},
                    {"target": "first_name", "source": "name"},
                ]
            },
        }
    )
    result = run_profile(profile, dry_run=False, default_target_url=url)
    assert (result.counts.created, result.counts.skipped, result.counts.errors) == (1, 1, 1)
    assert result.rejected_rows[1].message == "'not-an-email' is not an e-mail address"
    assert eng.rows_of(db, "select email from customers") == [("ada@example.com",)]


def test_composite_keys_inventory_and_prices(write, sqlite_target, eng):
    url, db = sqlite_target
    path = write("i.csv", "sku,loc,qty\nA,berlin,3\nA,paris,4\nA,berlin,5\n")
    profile = eng.make_profile(
        {
            "entity_type": "inventory",
            "source": {"kind": "SOURCE_KIND_FILE", "location": str(path)},
            "mapping": {
                "fields": [
                    {"target": "sku", "source": "sku"},
                    {"target": "location", "source": "loc"},
                    {"target": "quantity", "source": "qty"},
                ]
            },
        }
    )
    result = run_profile(profile, dry_run=False, default_target_url=url)
    assert (result.counts.created, result.counts.skipped) == (2, 1)
    assert "duplicate key sku='A', location='berlin'" in result.first_skip_reason
    write("i.csv", "sku,loc,qty\nA,berlin,9\nA,paris,4\n")
    again = run_profile(profile, dry_run=True, default_target_url=url)
    assert (again.counts.updated, again.counts.unchanged) == (1, 1)
    prices = eng.make_profile(
        {
            "entity_type": "prices",
            "source": {
                "kind": "SOURCE_KIND_FILE",
                "location": str(write("p.csv", "sku,p\nA,9.90\n")),
            },
            "mapping": {
                "fields": [{"target": "sku", "source": "sku"}, {"target": "price", "source": "p"}],
                "defaults": {"currency": "EUR", "price_list": "retail"},
            },
        }
    )
    assert check_profile(prices) == []
    assert run_profile(prices, dry_run=False, default_target_url=url).counts.created == 1
    assert eng.rows_of(db, "select sku, currency, price_list, price from prices") == [
        ("A", "EUR", "retail", 9.9)
    ]


def test_a_new_entity_needs_no_engine_change(write, sqlite_target, eng, monkeypatch):
    url, db = sqlite_target
    suppliers = EntitySchema(
        name="suppliers",
        key=("code",),
        fields=(
            FieldSpec("code", required=True),
            FieldSpec("name"),
            FieldSpec("lead_days", "integer"),
        ),
    )
    monkeypatch.setattr(entities_module, "_registered", {})
    register_entity(suppliers)
    path = write("s.csv", "code,name,days\nS1,Acme,3\n")
    profile = eng.make_profile(
        {
            "entity_type": "suppliers",
            "source": {"kind": "SOURCE_KIND_FILE", "location": str(path)},
            "mapping": {
                "fields": [
                    {"target": "code", "source": "code"},
                    {"target": "name", "source": "name"},
                    {"target": "lead_days", "source": "days"},
                ]
            },
        }
    )
    assert run_profile(profile, dry_run=False, default_target_url=url).counts.created == 1
    assert eng.rows_of(db, "select code, name, lead_days from suppliers") == [("S1", "Acme", 3)]


def _fake_distribution(
    tmp_path: Path, group: str, name: str, target: str, module: str, code: str
) -> None:
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(code))
    dist = tmp_path / "ferry_fake_plugin-1.0.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ferry-fake-plugin\nVersion: 1.0\n")
    entry = dist / "entry_points.txt"
    old = entry.read_text() if entry.exists() else ""
    entry.write_text(old + f"[{group}]\n{name} = {target}\n")


def test_entity_and_connector_plugins_through_entry_points(
    tmp_path, monkeypatch, sqlite_target, eng
):
    url, db = sqlite_target
    _fake_distribution(
        tmp_path,
        "ferry.entities",
        "warehouses",
        "fake_entities:WAREHOUSES",
        "fake_entities",
        """
        from ferry_domain.engine import EntitySchema, FieldSpec
        WAREHOUSES = EntitySchema(name="warehouses", key=("code",),
                                  fields=(FieldSpec("code", required=True), FieldSpec("city")))
    """,
    )
    _fake_distribution(
        tmp_path,
        "ferry.connectors",
        "fakeshop",
        "fake_connector:FakeShop",
        "fake_connector",
        """
        class FakeShop:
            def __init__(self, location, options, credentials):
                self.prefix = options.get("prefix", "")
                self.credentials = credentials
            def read(self):
                yield {"code": self.prefix + "W1", "address": {"city": "Oslo"}}
                yield {"code": self.prefix + "W2", "address": {"city": self.credentials}}
            def change_token(self):
                return "v42"
    """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    entities_module.reload_plugins()
    monkeypatch.setenv("FAKESHOP_TOKEN", "Bergen")
    try:
        assert "warehouses" in [e.name for e in list_entities()]
        profile = eng.make_profile(
            {
                "entity_type": "warehouses",
                "source": {
                    "kind": "SOURCE_KIND_CONNECTOR",
                    "connector": "fakeshop",
                    "options": {"prefix": "X-"},
                    "credentials_ref": "env:FAKESHOP_TOKEN",
                },
                "mapping": {
                    "fields": [
                        {"target": "code", "source": "code"},
                        {"target": "city", "source": "address.city"},
                    ]
                },
            }
        )
        assert check_profile(profile) == []
        result = run_profile(profile, dry_run=False, default_target_url=url)
        assert result.counts.created == 2
        assert eng.rows_of(db, "select code, city from warehouses order by code") == [
            ("X-W1", "Oslo"),
            ("X-W2", "Bergen"),
        ]
        assert connectors.change_token(profile.source) == "v42"
        profile.source.connector = "missing"
        with pytest.raises(PermanentSourceError, match="no connector named 'missing'"):
            run_profile(profile, dry_run=True, default_target_url=url)
    finally:
        entities_module.reload_plugins()
        sys.modules.pop("fake_entities", None)
        sys.modules.pop("fake_connector", None)


# -- exports ------------------------------------------------------------------


@pytest.fixture
def stocked(write, sqlite_target, eng):
    url, db = sqlite_target
    path = write(
        "p.csv",
        'sku,name,price,qty,tags\nA,"=HYPERLINK(""x"")",10.50,3,"a, b"\n'
        "B,@risk,.5,,\nC,-minus,2,1,\n",
    )
    fields = [
        *eng.PRODUCT_FIELDS,
        {"target": "tags", "source": "tags", "transforms": [{"name": "split"}]},
    ]
    run_profile(eng.csv_profile(path, fields), dry_run=False, default_target_url=url)
    return url


def _export(eng, tmp_path, kind: str, prefix: str = ""):
    return eng.make_profile(
        {
            "operation": "OPERATION_EXPORT",
            "export": {
                "directory": str(tmp_path / "out"),
                "format": {"kind": kind},
                "file_prefix": prefix,
            },
        }
    )


def test_export_csv_neutralises_formulas_and_is_atomic(stocked, tmp_path, eng):
    result = run_profile(
        _export(eng, tmp_path, "FORMAT_KIND_CSV", "catalog"),
        dry_run=False,
        default_target_url=stocked,
    )
    assert result.status == RunStatus.COMPLETED and result.counts.written == 3
    out = Path(result.output_path)
    assert out.parent == tmp_path / "out"
    assert out.name.startswith("catalog_") and out.name.endswith("Z.csv")
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary left
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["name"] for r in rows] == ['\'=HYPERLINK("x")', "'@risk", "'-minus"]
    assert rows[0]["price"] == "10.5" and rows[0]["tags"] == "a, b"
    assert rows[1]["quantity"] == ""
    second = run_profile(
        _export(eng, tmp_path, "FORMAT_KIND_CSV", "catalog"),
        dry_run=False,
        default_target_url=stocked,
    )
    assert second.output_path != result.output_path


def test_export_json_and_xlsx(stocked, tmp_path, eng):
    result = run_profile(
        _export(eng, tmp_path, "FORMAT_KIND_JSON"), dry_run=False, default_target_url=stocked
    )
    data = json.loads(Path(result.output_path).read_text())
    assert [d["sku"] for d in data] == ["A", "B", "C"]
    assert data[0]["price"] == 10.5 and data[0]["tags"] == ["a", "b"]
    assert data[1]["name"] == "@risk"  # JSON is not a spreadsheet
    result = run_profile(
        _export(eng, tmp_path, "FORMAT_KIND_XLSX"), dry_run=False, default_target_url=stocked
    )
    sheet = load_workbook(result.output_path, read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("sku", "name", "description")
    assert values[1][1] == '\'=HYPERLINK("x")'
    assert result.counts.written == 3


def test_export_dry_run_and_missing_table(stocked, tmp_path, eng):
    result = run_profile(
        _export(eng, tmp_path, "FORMAT_KIND_CSV"), dry_run=True, default_target_url=stocked
    )
    assert (result.counts.rows_read, result.counts.written, result.output_path) == (3, 0, "")
    assert not (tmp_path / "out").exists()
    missing = _export(eng, tmp_path, "FORMAT_KIND_CSV")
    missing.entity_type = "customers"
    with pytest.raises(PermanentSourceError, match="table 'customers' does not exist"):
        run_profile(missing, dry_run=False, default_target_url=stocked)
