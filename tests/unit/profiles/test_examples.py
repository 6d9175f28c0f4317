"""The example profiles under examples/ load, validate and round-trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from ferry.v1 import profile_pb2
from ferry_domain.profiles.validation import validate_profile
from ferry_domain.profiles.yaml_codec import dump_profile, load_profiles

EXAMPLES = sorted((Path(__file__).parents[3] / "examples").glob("*.yaml"))


def test_the_examples_exist():
    assert {p.name for p in EXAMPLES} >= {"supplier-products.yaml", "customers.yaml",
                                          "stock-feed.yaml", "products-export.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_valid_for_the_registry_and_the_engine(path):
    profiles = load_profiles(path.read_text(), path.name)
    for profile in profiles:
        assert validate_profile(profile) == [], profile.name
        assert load_profiles(dump_profile(profile), "dumped") == [profile]


def test_file_examples_point_at_the_example_data():
    root = Path(__file__).parents[3]
    for path in EXAMPLES:
        for profile in load_profiles(path.read_text(), path.name):
            location = profile.source.location
            if location.startswith(".ferry/examples/data/"):
                pattern = location.removeprefix(".ferry/")
                assert list(root.glob(pattern)), f"{profile.name}: nothing matches {pattern}"


def test_the_yaml_blocks_of_the_reference_load():
    text = (Path(__file__).parents[3] / "docs" / "profiles.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
    [profile] = load_profiles(blocks[0], "docs/profiles.md")
    assert profile.name == "supplier-products"
    assert dict(profile.mapping.fields[5].transforms[0].args) == {"S": "small", "M": "medium"}
    fields = next(b for b in blocks[1:] if b.startswith("price:"))
    snippet = "mapping:\n  fields:\n" + "".join(f"    {line}\n" for line in
                                                fields.splitlines())
    drop_folder = next(b for b in blocks[1:] if b.startswith("source:"))
    [dropping] = load_profiles("name: drops\n" + drop_folder, "docs snippet")
    assert dropping.source.ready_marker == "{name}.done"
    [xlsx] = load_profiles(next(b for b in blocks if b.startswith("name: supplier-prices-xlsx")),
                           "docs xlsx example")
    assert validate_profile(xlsx) == []
    assert (xlsx.source.format.kind, xlsx.source.format.sheet) == (
        profile_pb2.FORMAT_KIND_XLSX, "Prices")
    [fields_only] = load_profiles("name: snippet\n" + snippet, "docs snippet")
    assert [f.target for f in fields_only.mapping.fields] == [
        "price", "tags", "active", "created_at", "weight_unit"]
