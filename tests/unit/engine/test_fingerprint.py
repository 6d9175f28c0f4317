"""Source fingerprints and shape drift: types from a sample, and each kind of
change named the way a run warning shows it."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from ferry_domain.engine.fingerprint import (
    Fingerprint,
    column_type,
    compare,
    describe,
    from_proto,
    head_rows,
    take,
    to_proto,
)


def fp(*columns: tuple[str, str], run_id: str = "") -> Fingerprint:
    return Fingerprint(tuple(columns), 10, run_id)


BASE = fp(("sku", "text"), ("name", "text"), ("price", "decimal"), ("quantity", "int"),
          run_id="run-1")


@pytest.mark.parametrize(("values", "expected"), [
    (["1", "-2", " 30 "], "int"),
    (["1.5", "2", ".5"], "decimal"),
    (["true", "FALSE"], "bool"),
    (["2026-01-31", "31.01.2026"], "date"),
    (["2026-01-31T10:00:00Z", "2026-01-31"], "datetime"),
    (["", None, "  "], "empty"),
    (["1", "", "abc"], "text"),
    ([1, 2.5], "decimal"),
    ([True, False, None], "bool"),
    ([date(2026, 1, 1), datetime(2026, 1, 1, 10)], "datetime"),
    ([["a"], {"b": 1}], "text"),
])
def test_column_types_from_a_sample(values, expected):
    assert column_type(values) == expected


def test_take_reads_list_and_dict_rows_and_only_the_sample():
    rows = [["A", "1"]] * 200 + [["B", "x"]]
    assert take(["sku", "qty"], rows, "list").columns == (("sku", "text"), ("qty", "int"))
    dicts = [{"sku": "A", "qty": 2}, {"sku": "B"}]
    assert take(["sku", "qty"], dicts, "dict").columns == (("sku", "text"), ("qty", "int"))


def test_same_shape_is_no_drift():
    assert compare(BASE, fp(*BASE.columns)) == []


def test_two_swapped_columns_are_both_named():
    swapped = fp(("sku", "text"), ("name", "text"), ("quantity", "int"), ("price", "decimal"))
    [drift] = compare(BASE, swapped)
    assert drift.kind == "reordered" and set(drift.columns) == {"price", "quantity"}
    line = describe([drift], BASE)
    assert line == ("source shape changed since the last good run (run run-1): swapped "
                    "'price' (column 3 -> 4), 'quantity' (column 4 -> 3)")


def test_renamed_is_removed_and_added_at_the_same_place_with_the_same_type():
    renamed = fp(("sku", "text"), ("title", "text"), ("price", "decimal"), ("quantity", "int"))
    [drift] = compare(BASE, renamed)
    assert (drift.kind, drift.columns) == ("renamed", ("name", "title"))
    assert drift.detail == "renamed column 2 from 'name' to 'title'"


def test_added_removed_and_retyped():
    changed = fp(("sku", "text"), ("price", "text"), ("quantity", "int"), ("colour", "text"))
    kinds = {d.kind: d for d in compare(BASE, changed)}
    assert set(kinds) == {"removed", "added", "retyped"}
    assert kinds["removed"].columns == ("name",)
    assert kinds["added"].columns == ("colour",)
    assert kinds["retyped"].detail == "retyped 'price' from decimal to text"


def test_an_added_column_in_front_does_not_count_as_reordering():
    shifted = fp(("id", "int"), *BASE.columns)
    assert [d.kind for d in compare(BASE, shifted)] == ["added"]


def test_sampling_noise_is_not_drift():
    sparse = fp(("sku", "text"), ("name", "empty"), ("price", "int"), ("quantity", "int"))
    assert compare(BASE, sparse) == []


def test_wire_round_trip():
    assert from_proto(to_proto(BASE)) == BASE
    assert from_proto(to_proto(fp())) is None


def test_head_rows_reads_ahead_and_keeps_the_stream_whole():
    batches = iter([[1, 2], [3, 4], [5]])
    head, rest = head_rows(batches, wanted=3)
    assert head == [1, 2, 3] and list(rest) == [[1, 2], [3, 4], [5]]


def test_an_error_while_reading_ahead_is_raised_where_it_happened():
    def broken():
        yield [1, 2]
        raise ValueError("row 3 is malformed")

    head, rest = head_rows(broken(), wanted=10)
    assert head == [1, 2]
    assert next(rest) == [1, 2]
    with pytest.raises(ValueError, match="row 3"):
        next(rest)
