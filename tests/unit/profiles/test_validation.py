"""validate_profile: the one entry point of static validation; the definition's
rules, then the engine's checks against its catalogue."""

from __future__ import annotations

import pytest
from ferry.errors import Violation
from ferry.v1 import profile_pb2 as pb
from ferry_domain.profiles import validation
from ferry_domain.profiles.validation import validate_profile

PRODUCT_FIELDS = [pb.FieldMapping(target="sku", source="SKU"),
                  pb.FieldMapping(target="name", source="Name")]


def import_profile(**changes) -> pb.Profile:
    profile = pb.Profile(
        name="supplier-products",
        entity_type="products",
        operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_FILE, location="/data/*.csv"),
        mapping=pb.Mapping(fields=PRODUCT_FIELDS),
    )
    for key, value in changes.items():
        if hasattr(value, "CopyFrom"):
            getattr(profile, key).CopyFrom(value)
        else:
            setattr(profile, key, value)
    return profile


def export_profile(**export) -> pb.Profile:
    return pb.Profile(name="products-export", entity_type="products",
                      operation=pb.OPERATION_EXPORT, export=pb.ExportSpec(**export))


def fields(profile: pb.Profile) -> list[str]:
    return [v.field for v in validate_profile(profile)]


def test_valid_import_and_export():
    assert validate_profile(import_profile()) == []
    assert validate_profile(export_profile(directory="/data/exports")) == []


@pytest.mark.parametrize("name", ["", "Supplier", "-lead", "a" * 64, "has space", "x.y"])
def test_bad_names(name):
    assert fields(import_profile(name=name)) == ["profile.name"]


@pytest.mark.parametrize("name", ["a", "0", "a" * 63, "stock_feed-2"])
def test_good_names(name):
    assert fields(import_profile(name=name)) == []


def test_rollback_is_a_runs_operation_not_a_profiles():
    found = validate_profile(import_profile(operation=pb.OPERATION_ROLLBACK))
    messages = {v.field: v.description for v in found}
    assert "only a run's operation" in messages["profile.operation"]
    assert "ferry runs rollback" in messages["profile.operation"]


def test_operation_and_entity_are_required():
    profile = pb.Profile(name="x")
    assert fields(profile) == ["profile.operation", "profile.entity_type"]
    [_, entity] = validate_profile(profile)
    assert entity.description == "is required (e.g. products, customers, inventory)"


def test_import_needs_a_source_with_a_location():
    profile = import_profile()
    profile.ClearField("source")
    assert fields(profile) == ["profile.source.kind"]
    profile.source.kind = pb.SOURCE_KIND_HTTP
    assert fields(profile) == ["profile.source.location"]
    profile.source.kind = pb.SOURCE_KIND_CONNECTOR
    assert fields(profile) == ["profile.source.connector"]


def test_export_needs_a_directory_and_import_has_no_export():
    assert fields(export_profile()) == ["profile.export.directory"]
    assert fields(import_profile(export=pb.ExportSpec(directory="/x"))) == ["profile.export"]


def test_export_prefix_and_format():
    bad = export_profile(file_prefix="../x",
                         format=pb.Format(kind=pb.FORMAT_KIND_NDJSON, delimiter=";;",
                                          encoding="klingon"))
    assert sorted(fields(bad)) == ["profile.export.directory", "profile.export.file_prefix",
                                   "profile.export.format.delimiter",
                                   "profile.export.format.encoding",
                                   "profile.export.format.kind"]
    good = export_profile(directory="/out", file_prefix="daily.products-v2",
                          format=pb.Format(kind=pb.FORMAT_KIND_XLSX))
    assert fields(good) == []


def test_secret_refs_must_be_references():
    profile = import_profile()
    profile.source.credentials_ref = "hunter2"
    profile.source.dsn_ref = "env:OK_NAME"
    profile.target.dsn_ref = "postgresql://user:pw@db/shop"
    violations = validate_profile(profile)
    assert [v.field for v in violations] == ["profile.source.credentials_ref",
                                             "profile.target.dsn_ref"]
    assert all("hunter2" not in str(v) and "pw@" not in str(v) for v in violations)


def test_http_sources_take_a_url_without_credentials_and_auth_needs_credentials():
    profile = import_profile(source=pb.Source(kind=pb.SOURCE_KIND_HTTP,
                                              location="https://u:pw@example.com/feed",
                                              auth=pb.AUTH_KIND_BEARER))
    violations = validate_profile(profile)
    assert sorted(v.field for v in violations) == ["profile.source.credentials_ref",
                                                   "profile.source.location"]
    assert all("pw" not in str(v) for v in violations)
    profile.source.location = "ftp://example.com/feed"
    profile.source.credentials_ref = "env:FEED_TOKEN"
    assert fields(profile) == ["profile.source.location"]
    profile.source.location = "https://example.com/feed"
    assert fields(profile) == []


def test_sql_sources_need_a_query_and_a_dsn():
    profile = import_profile(source=pb.Source(kind=pb.SOURCE_KIND_SQL, location="  "))
    assert sorted(fields(profile)) == ["profile.source.dsn_ref", "profile.source.location"]
    profile.source.location = "SELECT * FROM products"
    profile.source.dsn_ref = "env:ERP_URL"
    assert fields(profile) == []


def test_target_table_is_a_plain_identifier():
    assert fields(import_profile(target=pb.Target(table="products; drop table x"))) == [
        "profile.target.table"]
    assert fields(import_profile(target=pb.Target(table="shop_products"))) == []


def test_source_format_characters_and_encoding():
    profile = import_profile()
    profile.source.format.delimiter = "\\t"
    profile.source.format.quote_char = "''"
    profile.source.format.encoding = "klingon"
    assert fields(profile) == ["profile.source.format.delimiter",
                               "profile.source.format.quote_char",
                               "profile.source.format.encoding"]
    profile.source.format.delimiter = "\t"
    profile.source.format.quote_char = "'"
    profile.source.format.encoding = "cp1252"
    assert fields(profile) == []


def test_ranges():
    profile = import_profile(batch_size=100_001)
    profile.retry.max_attempts = -1
    profile.retry.initial_backoff.seconds = 10
    profile.retry.max_backoff.seconds = 5
    profile.error_threshold.max_errors = -2
    profile.error_threshold.max_error_percent = 101
    profile.retention.sample_rows = -1
    profile.retention.on_success = pb.SUCCESS_ACTION_MOVE_TO_BACKUP
    profile.retention.keep_backup_days = -1
    profile.source.format.delimiter = ";;"
    assert sorted(fields(profile)) == sorted([
        "profile.batch_size",
        "profile.retry.max_attempts",
        "profile.retry.max_backoff",
        "profile.error_threshold.max_errors",
        "profile.error_threshold.max_error_percent",
        "profile.retention.sample_rows",
        "profile.retention.backup_dir",
        "profile.retention.keep_backup_days",
        "profile.source.format.delimiter",
    ])
    assert fields(import_profile(batch_size=100_000)) == []
    assert fields(import_profile(batch_size=-1)) == ["profile.batch_size"]


def test_durations_must_not_be_negative():
    profile = import_profile()
    profile.source.timeout.seconds = -1
    profile.retry.max_elapsed.nanos = -1
    assert fields(profile) == ["profile.source.timeout", "profile.retry.max_elapsed"]


def test_each_rule_is_reported_once():
    """A profile breaking rules the definition and the engine both used to
    check gets one violation per field."""
    profile = pb.Profile(
        name="dupes", entity_type="products", operation=pb.OPERATION_IMPORT, batch_size=-1,
        source=pb.Source(kind=pb.SOURCE_KIND_SQL, credentials_ref="hunter2",
                         format=pb.Format(delimiter=";;", quote_char="''")),
        target=pb.Target(dsn_ref="postgresql://x"),
        error_threshold=pb.ErrorThreshold(max_errors=-2, max_error_percent=120),
        mapping=pb.Mapping(fields=PRODUCT_FIELDS))
    found = fields(profile)
    assert sorted(found) == sorted(set(found))
    assert sorted(found) == [
        "profile.batch_size",
        "profile.error_threshold.max_error_percent",
        "profile.error_threshold.max_errors",
        "profile.source.credentials_ref",
        "profile.source.dsn_ref",
        "profile.source.format.delimiter",
        "profile.source.format.quote_char",
        "profile.source.location",
        "profile.target.dsn_ref",
    ]


def test_fields_of_a_malformed_profile_are_named():
    bad = pb.Profile(name="Not OK", operation=pb.OPERATION_IMPORT,
                     mapping=pb.Mapping(fields=[pb.FieldMapping()]))
    assert {"profile.name", "profile.entity_type", "profile.source.kind"} <= set(fields(bad))
    unmapped = import_profile(mapping=pb.Mapping(fields=[pb.FieldMapping(source="X")]))
    assert "profile.mapping.fields[0].target" in fields(unmapped)


def test_engine_violations_are_appended_rooted(monkeypatch):
    seen: list[pb.Profile] = []

    def check_profile(profile):
        seen.append(profile)
        return [Violation("mapping.fields[0].transforms[0].name", "unknown transform")]

    monkeypatch.setattr(validation, "check_profile", check_profile)
    profile = import_profile(batch_size=-1)
    assert fields(profile) == ["profile.batch_size",
                               "profile.mapping.fields[0].transforms[0].name"]
    assert seen == [profile]


def test_engine_errors_propagate(monkeypatch):
    def check_profile(profile):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(validation, "check_profile", check_profile)
    with pytest.raises(RuntimeError, match="engine bug"):
        validate_profile(import_profile())


def test_the_real_engine_checks_transforms_and_entity_fields():
    profile = import_profile()
    profile.mapping.fields[0].transforms.add(name="shout")
    profile.mapping.fields.add(target="colour_of_sky", source="Sky")
    found = fields(profile)
    assert "profile.mapping.fields[0].transforms[0].name" in found
    assert "profile.mapping.fields[2].target" in found
