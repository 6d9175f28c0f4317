"""load_profiles / dump_profile: the YAML format of docs/profiles.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ferry.errors import InvalidArgumentError
from ferry.v1 import profile_pb2 as pb
from ferry_domain.profiles.yaml_codec import dump_profile, dump_profiles, load_profiles

FULL = (Path(__file__).parent / "full_profile.yaml").read_text()


def problems(text: str) -> list[str]:
    with pytest.raises(InvalidArgumentError) as caught:
        load_profiles(text, "test.yaml")
    return [str(v) for v in caught.value.violations]


def test_full_example_maps_every_key():
    [profile] = load_profiles(FULL, "full.yaml")
    assert profile.name == "supplier-products"
    assert profile.entity_type == "products"
    assert profile.operation == pb.OPERATION_IMPORT
    source = profile.source
    assert source.kind == pb.SOURCE_KIND_FILE
    assert source.selection == pb.FILE_SELECTION_NEWEST
    assert source.format.delimiter == ";"
    assert source.format.HasField("header") and source.format.header is True
    assert source.format.compression == pb.COMPRESSION_AUTO
    assert source.credentials_ref == "env:SUPPLIER_TOKEN"
    assert source.auth == pb.AUTH_KIND_BEARER
    assert dict(source.headers) == {"Accept": "text/csv"}
    assert source.timeout.seconds == 30
    assert source.dsn_ref == "env:ERP_URL"
    assert dict(source.options) == {"key": "value"}
    mapping = profile.mapping
    assert list(mapping.key_fields) == ["sku"]
    assert list(mapping.required_fields) == ["name"]
    assert mapping.forward_fill.group_column == "Handle"
    assert list(mapping.forward_fill.columns) == ["Title", "Vendor"]
    assert [f.column for f in mapping.filters] == ["Type", "Variant SKU", "Status"]
    assert mapping.filters[1].not_empty and mapping.filters[2].negate
    assert [f.target for f in mapping.fields] == ["sku", "name", "price", "title", "currency",
                                                  "size"]
    sku, name, price, title, currency, size = mapping.fields
    assert sku.source == "SKU" and not sku.transforms
    assert [t.name for t in name.transforms] == ["trim"]
    assert price.default_value == "0"
    assert dict(price.transforms[0].args) == {"decimal_comma": "true"}
    assert list(title.sources) == ["Brand", "Name"]
    assert dict(title.transforms[0].args) == {"separator": " "}
    assert not currency.source and currency.transforms[0].args["value"] == "EUR"
    assert json.loads(size.transforms[0].args["table"]) == {"S": "small", "M": "medium"}
    assert profile.target.kind == pb.TARGET_KIND_SQL
    assert profile.target.dsn_ref == "env:SHOP_DB_URL"
    assert profile.export.file_prefix == "products"
    assert list(profile.freshness) == [pb.FRESHNESS_METHOD_MTIME_SIZE,
                                       pb.FRESHNESS_METHOD_CHECKSUM]
    assert profile.retention.on_success == pb.SUCCESS_ACTION_MOVE_TO_BACKUP
    assert profile.retention.keep_backup_days == 30
    assert profile.retry.max_elapsed.seconds == 600
    assert profile.error_threshold.max_error_percent == 5
    assert profile.overlap_policy == pb.OVERLAP_POLICY_QUEUE
    assert profile.batch_size == 5000
    assert dict(profile.labels) == {"team": "catalog"}


def test_dump_round_trips():
    [profile] = load_profiles(FULL, "full.yaml")
    text = dump_profile(profile)
    assert load_profiles(text, "dumped.yaml") == [profile]
    assert "mapping_digest" not in text and "revision" not in text


def test_round_trip_keeps_false_header_and_empty_default():
    profile = pb.Profile(name="p", entity_type="products", operation=pb.OPERATION_IMPORT)
    profile.source.format.header = False
    profile.mapping.fields.add(target="note", source="Note", default_value="")
    assert load_profiles(dump_profile(profile), "x") == [profile]


def test_several_documents_and_empty_ones():
    text = "name: a\nentity: products\n---\n---\nname: b\nentity: customers\n"
    profiles = load_profiles(text, "two.yaml")
    assert [p.name for p in profiles] == ["a", "b"]
    assert load_profiles(dump_profiles(profiles), "x") == profiles


def test_unknown_enum_value_names_document_and_key():
    text = "name: a\n---\nname: b\nsource: {kind: gopher}\n"
    assert problems(text) == [
        'document 2: source.kind: unknown value "gopher" '
        '(expected file, http, sql, connector, sftp, ftp)'
    ]


def test_enum_values_are_case_insensitive():
    [profile] = load_profiles("name: a\noperation: Export\n", "x")
    assert profile.operation == pb.OPERATION_EXPORT


def test_unknown_keys_are_rejected_everywhere():
    text = ("name: a\nentitty: products\nsource: {kind: file, path: /x}\n"
            "mapping: {fields: {sku: {source: SKU, transform: [trim]}}}\n")
    found = problems(text)
    assert found[0].startswith("document 1: entitty: unknown key (expected one of: kind, name")
    assert found[1].startswith("document 1: source.path: unknown key")
    assert found[2].startswith("document 1: mapping.fields.sku.transform: unknown key "
                               "(expected one of: source, sources, transforms, default)")
    assert len(found) == 3


def test_wrong_types_are_reported():
    text = ("name: a\nbatch_size: lots\nretry: {initial_backoff: soon}\n"
            "mapping: {filters: [{column: A, not_empty: maybe}]}\n")
    assert problems(text) == [
        "document 1: batch_size: expected a whole number, got str 'lots'",
        "document 1: retry.initial_backoff: expected a duration such as 30s, 10m, 2h or 1h30m, "
        "got str 'soon'",
        "document 1: mapping.filters[0].not_empty: expected true or false, got str 'maybe'",
    ]


def test_missing_name_and_non_mapping_document():
    assert problems("entity: products\n---\n- a list\n") == [
        "document 1: name: is required",
        "document 2: expected a mapping of profile keys",
    ]


def test_wrong_kind():
    assert problems("kind: Schedule\nname: a\n") == [
        "document 1: kind: expected \"Profile\", got str 'Schedule'"
    ]


def test_yaml_syntax_error_gives_line_and_column():
    with pytest.raises(InvalidArgumentError) as caught:
        load_profiles("name: a\nsource:\n  kind: [file\n", "bad.yaml")
    message = caught.value.message
    assert message.startswith("bad.yaml: line 4, column 1: YAML syntax error:")


def test_duplicate_key_is_an_error_with_its_line():
    with pytest.raises(InvalidArgumentError) as caught:
        load_profiles("name: a\nentity: products\nname: b\n", "dup.yaml")
    assert caught.value.message.startswith("dup.yaml: line 3, column 1: YAML syntax error:")
    assert 'key "name" is given twice' in caught.value.message


def test_empty_file_is_an_error():
    with pytest.raises(InvalidArgumentError, match="no profile found"):
        load_profiles("# nothing\n", "empty.yaml")


def test_yaml_12_scalars_keep_country_codes_and_dates_as_strings():
    text = ("name: a\nmapping:\n  defaults: {country: NO, active: yes, since: 2026-01-01}\n"
            "  fields:\n    flag: {source: On, transforms: [{boolean: {strict: true}}]}\n")
    [profile] = load_profiles(text, "x")
    assert dict(profile.mapping.defaults) == {"country": "NO", "active": "yes",
                                              "since": "2026-01-01"}
    assert profile.mapping.fields[0].source == "On"
    assert profile.mapping.fields[0].transforms[0].args["strict"] == "true"


def test_durations_accept_seconds_and_compound_forms():
    text = "name: a\nretry: {initial_backoff: 1.5, max_backoff: 1h30m, max_elapsed: 90}\n"
    [profile] = load_profiles(text, "x")
    assert profile.retry.initial_backoff.nanos == 500_000_000
    assert profile.retry.max_backoff.seconds == 5400
    assert profile.retry.max_elapsed.seconds == 90


def test_durations_take_every_unit_of_the_one_grammar():
    text = ("name: a\nsource: {timeout: 250ms}\n"
            "retry: {initial_backoff: 30s, max_backoff: 2h, max_elapsed: 7d}\n")
    [profile] = load_profiles(text, "x")
    assert profile.source.timeout.nanos == 250_000_000
    assert profile.retry.initial_backoff.seconds == 30
    assert profile.retry.max_backoff.seconds == 7200
    assert profile.retry.max_elapsed.seconds == 7 * 86400
    assert "max_elapsed: 7d" in dump_profile(profile)


def test_a_duration_close_to_the_grammar_says_what_is_wrong():
    text = "name: a\nretry: {initial_backoff: 30m1h, max_backoff: -5, max_elapsed: -1h}\n"
    assert problems(text) == [
        "document 1: retry.initial_backoff: expected a duration such as 30s, 10m, 2h or 1h30m, "
        "got str '30m1h': write the largest unit first and each unit once (d, h, m, s, ms), "
        "e.g. 1h30m",
        "document 1: retry.max_backoff: expected a duration such as 30s, 10m, 2h or 1h30m, "
        "got int -5: a number of seconds is 0 or more",
        "document 1: retry.max_elapsed: expected a duration such as 30s, 10m, 2h or 1h30m, "
        "got str '-1h': durations are not negative",
    ]


def test_bare_transform_and_list_arguments():
    text = ("name: a\nmapping:\n  fields:\n"
            "    tags: {source: Tags, transforms: [trim, {split: {separators: [',', ';']}}]}\n")
    [profile] = load_profiles(text, "x")
    trim, split = profile.mapping.fields[0].transforms
    assert trim.name == "trim" and not trim.args
    assert json.loads(split.args["separators"]) == [",", ";"]
    assert "separators:\n" in dump_profile(profile)


def test_present_sections_round_trip_even_when_empty():
    text = "name: a\nerror_threshold: {max_errors: 0}\ntarget: {}\n"
    [profile] = load_profiles(text, "x")
    assert profile.HasField("error_threshold") and profile.HasField("target")
    dumped = dump_profile(profile)
    assert "error_threshold:\n  max_errors: 0\n" in dumped
    assert load_profiles(dumped, "x") == [profile]


def test_on_shape_change_reads_and_writes():
    [profile] = load_profiles("name: a\non_shape_change: fail\n", "x")
    assert profile.on_shape_change == pb.SHAPE_CHANGE_POLICY_FAIL
    assert "on_shape_change: fail" in dump_profile(profile)
    assert problems("name: a\non_shape_change: ignore\n") == [
        'document 1: on_shape_change: unknown value "ignore" (expected warn, fail)']


@pytest.mark.parametrize(("text", "mode"), [
    ("off", pb.CHANGESET_MODE_OFF), ('"off"', pb.CHANGESET_MODE_OFF),
    ("on", pb.CHANGESET_MODE_ON), ("false", pb.CHANGESET_MODE_OFF),
])
def test_retention_changeset_reads_on_and_off_as_yaml_writes_them(text, mode):
    # YAML 1.1 reads a bare on/off as a boolean: both spellings mean the same.
    [profile] = load_profiles(FULL.replace("  keep_min_runs: 50\n",
                                           f"  keep_min_runs: 50\n  changeset: {text}\n"), "x")
    assert profile.retention.changeset == mode
    [again] = load_profiles(dump_profile(profile), "dumped")
    assert again.retention.changeset == mode


def test_retention_changeset_rejects_other_values():
    text = FULL.replace("  keep_min_runs: 50\n", "  keep_min_runs: 50\n  changeset: sometimes\n")
    assert problems(text) == [
        'document 1: retention.changeset: unknown value "sometimes" (expected on, off)']
