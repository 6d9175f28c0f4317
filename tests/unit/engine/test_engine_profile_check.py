"""check_profile: the engine's static checks (its catalogue and capabilities)
with dotted field paths, without I/O. The other rules of a profile are tested
with validate_profile in tests/unit/profiles/test_validation.py."""

from __future__ import annotations

from ferry_domain.engine import check_profile


def _fields(eng, *extra):
    return [*eng.PRODUCT_FIELDS, *extra]


def paths(profile) -> list[str]:
    return [v.field for v in check_profile(profile)]


def test_a_good_profile_passes(eng, tmp_path):
    profile = eng.csv_profile(tmp_path / "missing-is-fine.csv", eng.PRODUCT_FIELDS)
    assert check_profile(profile) == []


def test_unknown_entity_type(eng, tmp_path):
    profile = eng.csv_profile(tmp_path / "a.csv", eng.PRODUCT_FIELDS, entity_type="gadgets")
    violations = check_profile(profile)
    assert [v.field for v in violations] == ["entity_type"]
    assert "unknown entity type 'gadgets'" in violations[0].description


def test_unknown_transform_and_bad_args_point_at_the_step(eng, tmp_path):
    fields = [
        {"target": "sku", "source": "sku"},
        {"target": "name", "source": "name"},
        {"target": "price", "source": "p", "transforms": [{"name": "trim"}, {"name": "money"}]},
        {
            "target": "quantity",
            "source": "q",
            "transforms": [{"name": "integer", "args": {"base": "16"}}],
        },
    ]
    profile = eng.csv_profile(tmp_path / "a.csv", fields)
    assert paths(profile) == [
        "mapping.fields[2].transforms[1].name",
        "mapping.fields[3].transforms[0].args.base",
    ]


def test_unknown_target_field_and_duplicates(eng, tmp_path):
    fields = _fields(eng, {"target": "colour", "source": "c"}, {"target": "name", "source": "n"})
    assert paths(eng.csv_profile(tmp_path / "a.csv", fields)) == [
        "mapping.fields[4].target",
        "mapping.fields[5].target",
    ]


def test_key_field_not_mapped(eng, tmp_path):
    fields = [{"target": "name", "source": "name"}]
    violations = check_profile(eng.csv_profile(tmp_path / "a.csv", fields))
    assert ("mapping.key_fields", "key field 'sku' is not mapped") in [
        (v.field, v.description) for v in violations
    ]
    custom = eng.csv_profile(tmp_path / "a.csv", eng.PRODUCT_FIELDS, key_fields=["barcode"])
    assert paths(custom) == ["mapping.key_fields"]


def test_missing_required_field(eng, tmp_path):
    fields = [{"target": "sku", "source": "sku"}]
    violations = check_profile(eng.csv_profile(tmp_path / "a.csv", fields))
    assert [(v.field, v.description) for v in violations] == [
        ("mapping.fields", "required field 'name' is not mapped")
    ]
    extra = eng.csv_profile(tmp_path / "a.csv", eng.PRODUCT_FIELDS, required_fields=["brand"])
    assert paths(extra) == ["mapping.fields"]
    with_default = eng.csv_profile(
        tmp_path / "a.csv",
        eng.PRODUCT_FIELDS,
        required_fields=["brand"],
        defaults={"brand": "Acme"},
    )
    assert paths(with_default) == []


def test_bad_defaults_and_source_format(eng, tmp_path):
    fields = _fields(eng, {"target": "active", "source": "a", "default_value": "maybe"})
    profile = eng.csv_profile(
        tmp_path / "a.csv",
        fields,
        format={"delimiter": ";;", "quote_char": "''", "encoding": "klingon"},
        options={"format": "parquet"},
        defaults={"weight": "heavy"},
    )
    assert sorted(paths(profile)) == sorted(
        [
            "mapping.fields[4].default_value",
            "mapping.defaults.weight",
            "source.options.format",
        ]
    )


def test_a_single_file_selection_is_not_a_glob(eng):
    glob_single = eng.make_profile(
        {
            "source": {
                "kind": "SOURCE_KIND_FILE",
                "location": "/in/*.csv",
                "selection": "FILE_SELECTION_SINGLE",
            },
            "mapping": {"fields": eng.PRODUCT_FIELDS},
        }
    )
    assert paths(glob_single) == ["source.selection"]


def test_export_profile(eng):
    good = eng.make_profile(
        {
            "operation": "OPERATION_EXPORT",
            "export": {"directory": "/out", "format": {"kind": "FORMAT_KIND_XLSX"}},
        }
    )
    assert check_profile(good) == []
    bad = eng.make_profile(
        {
            "operation": "OPERATION_EXPORT",
            "export": {"directory": "/out", "format": {"kind": "FORMAT_KIND_NDJSON"}},
        }
    )
    assert paths(bad) == ["export.format.kind"]


def test_only_sql_targets(eng, tmp_path):
    profile = eng.csv_profile(
        tmp_path / "a.csv", eng.PRODUCT_FIELDS, target={"kind": "TARGET_KIND_UNSPECIFIED"}
    )
    assert paths(profile) == []
    profile.target.kind = 99
    assert paths(profile) == ["target.kind"]


def test_entity_type_is_required(eng, tmp_path):
    profile = eng.csv_profile(tmp_path / "a.csv", eng.PRODUCT_FIELDS, entity_type="")
    assert [(v.field, v.description) for v in check_profile(profile)] == [
        ("entity_type", "is required (e.g. products, customers, inventory)")
    ]


def test_check_does_no_io(eng, tmp_path, monkeypatch):
    import builtins

    def no_open(*args, **kwargs):
        raise AssertionError("check_profile opened a file")

    profile = eng.csv_profile(tmp_path / "a.csv", eng.PRODUCT_FIELDS)
    monkeypatch.setattr(builtins, "open", no_open)
    assert check_profile(profile) == []
