"""Each transform with its args, and the static checks of their args."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from ferry_domain.engine.errors import RowValueError
from ferry_domain.engine.transforms import TRANSFORMS, build_transform, check_transform


def t(name: str, input_value, **args):
    return build_transform(name, args)(input_value)


def test_text_transforms():
    assert t("trim", "  a b  ") == "a b"
    assert t("lower", "ÄB") == "äb"
    assert t("upper", "ab") == "AB"
    assert t("trim", [" a ", "b "]) == ["a", "b"]  # lists element-wise
    assert t("trim", None) is None
    assert t("replace", "a-b-c", old="-", new="/") == "a/b/c"
    assert t("strip_html", "<p>Strap fits 7&quot; &amp; up</p><ul><li>x") == 'Strap fits 7" & up x'


def test_decimal_and_integer():
    assert t("decimal", ".5") == Decimal("0.5")
    assert t("decimal", " 1,234.50 ", thousands=",") == Decimal("1234.50")
    assert t("decimal", "1.234,56", decimal_comma="true") == Decimal("1234.56")
    assert t("decimal", "12,5", decimal_comma="true") == Decimal("12.5")
    assert t("decimal", "") is None
    assert t("integer", "42") == 42
    assert t("integer", "1.000", decimal_comma="true") == 1000
    assert t("integer", "10.0") == 10
    with pytest.raises(RowValueError, match="not a decimal number"):
        t("decimal", "12 apples")
    with pytest.raises(RowValueError, match="not a finite number"):
        t("decimal", "NaN")
    with pytest.raises(RowValueError, match="not a whole number"):
        t("integer", "2.5")


def test_boolean_words_and_custom_words():
    assert [t("boolean", w) for w in ("TRUE", "yes", "Y", "1", "on")] == [True] * 5
    assert [t("boolean", w) for w in ("false", "No", "n", "0", "off")] == [False] * 5
    assert t("boolean", "ja", true="ja,oui", false="nein") is True
    with pytest.raises(RowValueError, match="not a yes/no value"):
        t("boolean", "maybe")


def test_dates():
    assert t("date", "2024-03-01") == date(2024, 3, 1)
    assert t("date", "01/03/2024", format="%d/%m/%Y") == date(2024, 3, 1)
    assert t("date", "2024.03.01", format="%d/%m/%Y|%Y.%m.%d") == date(2024, 3, 1)
    assert t("datetime", "2024-03-01T10:00:00Z").isoformat() == "2024-03-01T10:00:00+00:00"
    assert t("datetime", "01.03.2024 10:30", format="%d.%m.%Y %H:%M") == datetime(
        2024, 3, 1, 10, 30
    )
    with pytest.raises(RowValueError, match=r"not a date \(%d/%m/%Y\)"):
        t("date", "2024-13-45", format="%d/%m/%Y")


def test_lists():
    assert t("split", "Blue, Green, Red") == ["Blue", "Green", "Red"]
    assert t("split", "Gear\nWatches", separator="newline") == ["Gear", "Watches"]
    assert t("split", "\nMetal\nRubber", separator="\\n") == ["Metal", "Rubber"]
    assert t("split", "a||b", separator="pipe", keep_empty="true") == ["a", "", "b"]
    assert t("join", ["a", "b"], separator="/") == "a/b"
    assert t("first", ["a", "b"]) == "a"


def test_default_constant_concat_regex():
    assert t("default", "", value="n/a") == "n/a"
    assert t("default", "x", value="n/a") == "x"
    assert t("constant", "anything", value="EUR") == "EUR"
    assert t("concat", ["Ada", None, " Lovelace "]) == "Ada Lovelace"
    assert t("concat", ["a", "b"], separator="-") == "a-b"
    assert t("regex", "39.99 PLN", pattern=r"([A-Z]{3})$") == "PLN"
    assert t("regex", "no currency", pattern=r"([A-Z]{3})$") is None


def test_lookup_table():
    args = {"active": "true", "draft": "false", "_ignore_case": "true"}
    assert t("lookup", "Active", **args) == "true"
    with pytest.raises(RowValueError, match="no lookup entry for 'archived'"):
        t("lookup", "archived", **args)
    assert t("lookup", "archived", **args, _default="false") == "false"
    assert t("lookup", "archived", **args, _passthrough="true") == "archived"


def test_email():
    assert t("email", "  Ada@Example.COM ") == "ada@example.com"
    with pytest.raises(RowValueError, match="not an e-mail address"):
        t("email", "ada at example")


@pytest.mark.parametrize(
    ("name", "args", "path"),
    [
        ("titlecase", {}, "name"),
        ("trim", {"x": "1"}, "args.x"),
        ("default", {}, "args.value"),
        ("regex", {"pattern": "("}, "args.pattern"),
        ("regex", {"pattern": "(a)", "group": "2"}, "args.group"),
        ("date", {"format": "dd/mm"}, "args.format"),
        ("decimal", {"decimal_comma": "perhaps"}, "args.decimal_comma"),
        ("lookup", {"_default": "x"}, "args"),
    ],
)
def test_bad_transforms_are_rejected(name, args, path):
    problems = check_transform(name, args)
    assert [p for p, _ in problems] == [path]


def test_every_transform_is_documented_and_checkable():
    for spec, _ in TRANSFORMS.values():
        assert spec.doc
        args = {k: "x" for k in spec.required}
        if spec.name == "lookup":
            args = {"a": "b"}
        assert check_transform(spec.name, args) == [], spec.name
