"""The profile digest: what changes what a run writes, canonical across orderings."""

from __future__ import annotations

import subprocess
import sys

from ferry.v1 import profile_pb2 as pb
from ferry_domain.profiles.digest import profile_digest


def profile(**changes: object) -> pb.Profile:
    p = pb.Profile(
        name="stock", description="d", entity_type="products", operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_FILE, location="/in/a.csv"),
        mapping=pb.Mapping(fields=[
            pb.FieldMapping(target="sku", source="SKU"),
            pb.FieldMapping(target="name", source="Name", transforms=[
                pb.Transform(name="trim"), pb.Transform(name="replace",
                                                         args={"a": "1", "b": "2"})]),
        ], filters=[pb.RowFilter(column="A", not_empty=True),
                    pb.RowFilter(column="B", equals_any=["x"])]),
        target=pb.Target(kind=pb.TARGET_KIND_SQL, table="products"),
        freshness=[pb.FRESHNESS_METHOD_CHECKSUM], batch_size=10)
    for key, value in changes.items():
        setattr(p, key, value)
    return p


def test_same_profile_same_digest_in_another_process() -> None:
    code = ("from tests.unit.profiles.test_digest import profile;"
            "from ferry_domain.profiles.digest import profile_digest;"
            "print(profile_digest(profile()))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": "123", "PATH": ""}, cwd=".")
    assert other.stdout.strip() == profile_digest(profile())
    assert profile_digest(profile()).startswith("sha256:")


def test_field_filter_and_map_order_do_not_count() -> None:
    reordered = profile()
    fields = list(reordered.mapping.fields)
    reordered.mapping.ClearField("fields")
    reordered.mapping.fields.extend(reversed(fields))
    filters = list(reordered.mapping.filters)
    reordered.mapping.ClearField("filters")
    reordered.mapping.filters.extend(reversed(filters))
    replace = reordered.mapping.fields[0].transforms[1]
    replace.args.clear()
    replace.args["b"] = "2"
    replace.args["a"] = "1"
    assert profile_digest(reordered) == profile_digest(profile())


def test_what_a_run_writes_counts_the_rest_does_not() -> None:
    base = profile_digest(profile())
    upper = profile()
    upper.mapping.fields[1].transforms.add(name="upper")
    swapped = profile()
    transforms = list(swapped.mapping.fields[1].transforms)
    swapped.mapping.fields[1].ClearField("transforms")
    swapped.mapping.fields[1].transforms.extend(reversed(transforms))
    filtered = profile()
    filtered.mapping.filters[0].negate = True
    table = profile()
    table.target.table = "items"
    delimiter = profile()
    delimiter.source.format.delimiter = ";"
    for changed in (upper, swapped, filtered, table, delimiter, profile(entity_type="prices")):
        assert profile_digest(changed) != base
    moved = profile(description="other", batch_size=99)
    moved.source.location = "/in/b.csv"
    moved.labels["team"] = "x"
    assert profile_digest(moved) == base
