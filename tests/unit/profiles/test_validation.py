"""validate_profile: structural rules, then the engine's checks."""

from __future__ import annotations

import sys
import types

import pytest
from ferry.errors import Violation
from ferry.v1 import profile_pb2 as pb
from ferry_domain.profiles.validation import validate_profile


def import_profile(**changes) -> pb.Profile:
    profile = pb.Profile(
        name="supplier-products",
        entity_type="products",
        operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_FILE, location="/data/*.csv"),
    )
    for key, value in changes.items():
        if hasattr(value, "CopyFrom"):
            getattr(profile, key).CopyFrom(value)
        else:
            setattr(profile, key, value)
    return profile


@pytest.fixture(autouse=True)
def no_engine(monkeypatch):
    """Structural tests run without the engine's checks."""
    monkeypatch.setitem(sys.modules, "ferry_domain.engine", None)


def fields(profile: pb.Profile) -> list[str]:
    return [v.field for v in validate_profile(profile)]


def test_valid_import_and_export():
    assert validate_profile(import_profile()) == []
    export = pb.Profile(name="products-export", entity_type="products",
                        operation=pb.OPERATION_EXPORT,
                        export=pb.ExportSpec(directory="/data/exports"))
    assert validate_profile(export) == []


@pytest.mark.parametrize("name", ["", "Supplier", "-lead", "a" * 64, "has space", "x.y"])
def test_bad_names(name):
    assert fields(import_profile(name=name)) == ["profile.name"]


@pytest.mark.parametrize("name", ["a", "0", "a" * 63, "stock_feed-2"])
def test_good_names(name):
    assert fields(import_profile(name=name)) == []


def test_operation_and_entity_are_required():
    profile = pb.Profile(name="x")
    assert fields(profile) == ["profile.operation", "profile.entity_type"]


def test_import_needs_a_source_with_a_location():
    profile = import_profile()
    profile.ClearField("source")
    assert fields(profile) == ["profile.source.kind"]
    profile.source.kind = pb.SOURCE_KIND_HTTP
    assert fields(profile) == ["profile.source.location"]
    profile.source.kind = pb.SOURCE_KIND_CONNECTOR
    assert fields(profile) == ["profile.source.connector"]


def test_export_needs_a_directory_and_import_has_no_export():
    export = pb.Profile(name="e", entity_type="products", operation=pb.OPERATION_EXPORT)
    assert fields(export) == ["profile.export.directory"]
    assert fields(import_profile(export=pb.ExportSpec(directory="/x"))) == ["profile.export"]


def test_secret_refs_must_be_references():
    profile = import_profile()
    profile.source.credentials_ref = "hunter2"
    profile.source.dsn_ref = "env:OK_NAME"
    profile.target.dsn_ref = "postgresql://user:pw@db/shop"
    violations = validate_profile(profile)
    assert [v.field for v in violations] == ["profile.source.credentials_ref",
                                             "profile.target.dsn_ref"]
    assert all("hunter2" not in str(v) and "pw@" not in str(v) for v in violations)


def test_ranges():
    profile = import_profile(batch_size=100_001)
    profile.retry.max_attempts = -1
    profile.retry.initial_backoff.seconds = 10
    profile.retry.max_backoff.seconds = 5
    profile.error_threshold.max_errors = -2
    profile.error_threshold.max_error_percent = 101
    profile.retention.sample_rows = -1
    profile.retention.on_success = pb.SUCCESS_ACTION_MOVE_TO_BACKUP
    profile.source.format.delimiter = ";;"
    assert sorted(fields(profile)) == sorted([
        "profile.batch_size",
        "profile.retry.max_attempts",
        "profile.retry.max_backoff",
        "profile.error_threshold.max_errors",
        "profile.error_threshold.max_error_percent",
        "profile.retention.sample_rows",
        "profile.retention.backup_dir",
        "profile.source.format.delimiter",
    ])
    assert fields(import_profile(batch_size=100_000)) == []


def test_engine_violations_are_appended_rooted_and_not_repeated(monkeypatch):
    engine = types.ModuleType("ferry_domain.engine")
    seen: list[pb.Profile] = []

    def check_profile(profile):
        seen.append(profile)
        return [Violation("mapping.fields[0].transforms[0].name", "unknown transform"),
                Violation("batch_size", "must not be negative")]

    engine.check_profile = check_profile
    monkeypatch.setitem(sys.modules, "ferry_domain.engine", engine)
    profile = import_profile(batch_size=-1)
    assert fields(profile) == ["profile.batch_size",
                               "profile.mapping.fields[0].transforms[0].name"]
    assert seen == [profile]


def test_engine_errors_other_than_import_errors_propagate(monkeypatch):
    engine = types.ModuleType("ferry_domain.engine")

    def check_profile(profile):
        raise RuntimeError("engine bug")

    engine.check_profile = check_profile
    monkeypatch.setitem(sys.modules, "ferry_domain.engine", engine)
    with pytest.raises(RuntimeError, match="engine bug"):
        validate_profile(import_profile())


def test_the_real_engine_checks_transforms_and_entity_fields(monkeypatch):
    monkeypatch.delitem(sys.modules, "ferry_domain.engine")
    profile = import_profile()
    profile.mapping.fields.add(target="sku", source="SKU").transforms.add(name="shout")
    profile.mapping.fields.add(target="colour_of_sky", source="Sky")
    found = fields(profile)
    assert "profile.mapping.fields[0].transforms[0].name" in found
    assert "profile.mapping.fields[1].target" in found
