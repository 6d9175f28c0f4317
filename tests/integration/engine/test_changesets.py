"""Changesets in the target, on SQLite and PostgreSQL: what each live import
wrote, read back, compared and undone, with the WooCommerce sample."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from ferry.v1 import profile_pb2 as pb
from ferry_domain.changesets import Action
from ferry_domain.changesets.diff import diff_runs
from ferry_domain.changesets.errors import ChangesetNotFoundError, RollbackRefusedError
from ferry_domain.changesets.purge import purge_changesets
from ferry_domain.changesets.reads import get_record, list_run_records
from ferry_domain.changesets.rollback import rollback_run
from ferry_domain.engine import run_profile
from ferry_domain.runs.states import RunStatus

from tests.integration.engine.conftest import EXAMPLES, load_sample_profile
from tests.support import SAMPLES

WOO = "woocommerce_sample_products.csv"
EDITED = {"woo-tshirt": "18.50", "woo-beanie": "21", "woo-belt": "60"}


def woo_profile(tmp_path: Path) -> pb.Profile:
    shutil.copy(SAMPLES / WOO, tmp_path / WOO)
    profile = load_sample_profile(EXAMPLES / "woocommerce_products.yaml")
    profile.source.location = str(tmp_path / WOO)
    return profile


def edit_prices(path: Path, prices: dict[str, str]) -> dict[str, str]:
    """Set "Regular price" of these SKUs; the old prices."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    sku, price = rows[0].index("SKU"), rows[0].index("Regular price")
    old = {}
    for row in rows[1:]:
        if row[sku] in prices:
            old[row[sku]] = row[price]
            row[price] = prices[row[sku]]
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return old


def run(profile: pb.Profile, url: str, run_id: str):
    result = run_profile(profile, dry_run=False, default_target_url=url, run_id=run_id)
    assert result.status is RunStatus.COMPLETED, result
    return result


def records(profile: pb.Profile, url: str, run_id: str, **kwargs):
    return list_run_records(profile, default_target_url=url, run_id=run_id, **kwargs).records


def price(profile: pb.Profile, url: str, sku: str):
    values = get_record(profile, default_target_url=url, key=[sku]).values
    return None if values is None else float(values["price"])


def test_records_diff_and_rollbacks_of_the_woocommerce_sample(tmp_path, target_url, q):
    profile, url = woo_profile(tmp_path), target_url
    run(profile, url, "run-1")
    created = records(profile, url, "run-1", page_size=500)
    assert [r.action for r in created] == [Action.CREATED] * 25
    skus = {r.key[0] for r in created}
    assert len(skus) == 25 and "woo-tshirt" in skus
    assert q(url, "SELECT DISTINCT _ferry_run_id FROM products") == [("run-1",)]

    old = edit_prices(tmp_path / WOO, EDITED)
    second = run(profile, url, "run-2")
    assert (second.counts.updated, second.counts.unchanged) == (3, 22)
    updates = records(profile, url, "run-2")
    assert {r.key[0]: [(f.field, float(f.before), float(f.after)) for f in r.fields]
            for r in updates} == {
        sku: [("price", float(old[sku]), float(new))] for sku, new in EDITED.items()}
    assert records(profile, url, "run-2", actions=[Action.CREATED]) == []

    record = get_record(profile, default_target_url=url, key=["woo-tshirt"])
    assert record.last_run_id == "run-2" and float(record.values["price"]) == 18.5
    assert [(h.run_id, h.action) for h in record.history] == [
        ("run-2", Action.UPDATED), ("run-1", Action.CREATED)]

    diff = diff_runs(profile, default_target_url=url, run_a="run-2", run_b="run-1")
    assert (diff.run_a, diff.run_b, diff.created_count, diff.deleted_count) == (
        "run-1", "run-2", 0, 0)
    assert [(f.field, sorted(k[0] for k, _, _ in f.changes)) for f in diff.fields] == [
        ("price", sorted(EDITED))]

    dry = rollback_run(profile, default_target_url=url, run_id="rb-dry", undo_run_id="run-2",
                       dry_run=True)
    assert dry.counts.updated == 3 and price(profile, url, "woo-tshirt") == 18.5

    undone = rollback_run(profile, default_target_url=url, run_id="rb-1", undo_run_id="run-2")
    assert (undone.status, undone.counts.rows_read, undone.counts.updated) == (
        RunStatus.COMPLETED, 3, 3)
    assert {sku: price(profile, url, sku) for sku in EDITED} == {
        sku: float(p) for sku, p in old.items()}
    assert get_record(profile, default_target_url=url, key=["woo-belt"]).last_run_id == "rb-1"

    redone = rollback_run(profile, default_target_url=url, run_id="rb-2", undo_run_id="rb-1")
    assert redone.counts.updated == 3
    assert {sku: price(profile, url, sku) for sku in EDITED} == {
        sku: float(p) for sku, p in EDITED.items()}
    # The stored hashes came back with the values: the same file is unchanged.
    again = run(profile, url, "run-3")
    assert (again.counts.updated, again.counts.unchanged) == (0, 25)
    # A run that changed nothing marks the state it found: from the first
    # run to it, the three prices changed (decimals shown without trailing zeros).
    diff = diff_runs(profile, default_target_url=url, run_a="run-3", run_b="run-1")
    assert (diff.run_a, diff.run_b) == ("run-1", "run-3")
    [prices] = diff.fields
    assert prices.field == "price" and {k[0]: last for k, _, last in prices.changes} == {
        "woo-tshirt": "18.5", "woo-beanie": "21", "woo-belt": "60"}

    with pytest.raises(RollbackRefusedError) as refused:
        rollback_run(profile, default_target_url=url, run_id="rb-3", undo_run_id="run-1")
    assert sorted(k[0] for k in refused.value.keys) == sorted(EDITED)
    # Named with the run that wrote each last: the re-applying rollback.
    assert "woo-tshirt (last written by run rb-2)" in str(refused.value)
    assert q(url, "SELECT count(*) FROM products") == [(25,)]

    forced = rollback_run(profile, default_target_url=url, run_id="rb-3", undo_run_id="run-1",
                          force=True)
    assert (forced.status, forced.counts.deleted) == (RunStatus.WARNING, 25)
    assert q(url, "SELECT count(*) FROM products") == [(0,)]
    back = rollback_run(profile, default_target_url=url, run_id="rb-4", undo_run_id="rb-3")
    assert back.counts.created == 25 and price(profile, url, "woo-tshirt") == 18.5


def test_a_rollback_restores_every_type_and_the_hash(tmp_path, target_url, q):
    path = tmp_path / "p.csv"
    t = pb.Transform
    profile = pb.Profile(
        name="typed", entity_type="products", operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_FILE, location=str(path)),
        mapping=pb.Mapping(fields=[
            pb.FieldMapping(target="sku", source="sku"),
            pb.FieldMapping(target="name", source="name"),
            pb.FieldMapping(target="price", source="price", transforms=[t(name="decimal")]),
            pb.FieldMapping(target="tags", source="tags", transforms=[t(name="split")]),
            pb.FieldMapping(target="active", source="active", transforms=[t(name="boolean")]),
            pb.FieldMapping(target="quantity", source="qty", transforms=[t(name="integer")]),
        ]))
    path.write_text('sku,name,price,tags,active,qty\nA,Shirt,10.25,"x, y",yes,3\nB,Hat,1.5,,no,\n')
    run(profile, target_url, "one")
    before = q(target_url, "SELECT sku, name, price, tags, active, quantity, _ferry_hash "
                           "FROM products ORDER BY sku")
    path.write_text('sku,name,price,tags,active,qty\nA,Shirt!,10.26,"x",no,4\nB,Hat,1.5,z,yes,0\n')
    run(profile, target_url, "two")
    (a,) = [r for r in records(profile, target_url, "two") if r.key == ("A",)]
    assert {f.field for f in a.fields} == {"name", "price", "tags", "active", "quantity"}
    assert {f.field: (f.before, f.after) for f in a.fields}["tags"] == (["x", "y"], ["x"])
    rollback_run(profile, default_target_url=target_url, run_id="undo", undo_run_id="two")
    assert q(target_url, "SELECT sku, name, price, tags, active, quantity, _ferry_hash "
                         "FROM products ORDER BY sku") == before


def test_changeset_off_records_nothing_and_failed_batches_leave_none(tmp_path, target_url, q):
    profile = woo_profile(tmp_path)
    profile.retention.changeset = pb.CHANGESET_MODE_OFF
    run(profile, target_url, "quiet")
    with pytest.raises(ChangesetNotFoundError, match="run quiet has no changeset"):
        records(profile, target_url, "quiet")
    assert q(target_url, "SELECT DISTINCT _ferry_run_id FROM products") == [("quiet",)]

    # A batch that fails (too many errors) is rolled back with its changes.
    path = tmp_path / "bad.csv"
    path.write_text("sku,name,price\n" + "".join(
        f"S{i},n,{'x' if i >= 5 else i}\n" for i in range(10)))
    bad = pb.Profile(
        name="bad", entity_type="products", operation=pb.OPERATION_IMPORT, batch_size=5,
        source=pb.Source(kind=pb.SOURCE_KIND_FILE, location=str(path)),
        mapping=pb.Mapping(fields=[
            pb.FieldMapping(target="sku", source="sku"),
            pb.FieldMapping(target="name", source="name"),
            pb.FieldMapping(target="price", source="price",
                            transforms=[pb.Transform(name="decimal")])]),
        error_threshold=pb.ErrorThreshold(max_errors=2), target=pb.Target(table="bad_products"))
    failed = run_profile(bad, dry_run=False, default_target_url=target_url, run_id="bad-1")
    assert failed.status is RunStatus.FAILED and failed.counts.created == 5
    assert [r.key[0] for r in records(bad, target_url, "bad-1")] == [f"S{i}" for i in range(5)]


def test_purge_drops_the_changesets_of_runs_the_registry_no_longer_keeps(tmp_path, target_url):
    profile = woo_profile(tmp_path)
    run(profile, target_url, "old")
    edit_prices(tmp_path / WOO, EDITED)
    run(profile, target_url, "new")
    asked = []

    def kept(run_ids):
        asked.append(list(run_ids))
        return {"new"}

    assert purge_changesets(profile, default_target_url=target_url, kept=kept) == ["old"]
    assert asked == [["new", "old"]]
    with pytest.raises(ChangesetNotFoundError):
        records(profile, target_url, "old")
    assert len(records(profile, target_url, "new")) == 3
    history = get_record(profile, default_target_url=target_url, key=["woo-tshirt"]).history
    assert [h.run_id for h in history] == ["new"]


def test_created_records_page_and_show_in_history_key_by_key(tmp_path, target_url):
    """Created records are stored many to a row: pages split such a row, and
    a record's history finds its creation even when its key is the prefix of
    another's."""
    path = tmp_path / "p.csv"
    path.write_text("sku,name\n" + "".join(f"A{i},n{i}\n" for i in range(1, 26)))
    profile = pb.Profile(
        name="paged", entity_type="products", operation=pb.OPERATION_IMPORT, batch_size=10,
        source=pb.Source(kind=pb.SOURCE_KIND_FILE, location=str(path)),
        mapping=pb.Mapping(fields=[pb.FieldMapping(target="sku", source="sku"),
                                   pb.FieldMapping(target="name", source="name")]))
    run(profile, target_url, "first")
    pages, token = [], ""
    while True:
        page = list_run_records(profile, default_target_url=target_url, run_id="first",
                                page_size=7, page_token=token)
        pages.append([r.key[0] for r in page.records])
        token = page.next_page_token
        if not token:
            break
    assert [len(p) for p in pages] == [7, 7, 7, 4]
    assert sum(pages, []) == [f"A{i}" for i in range(1, 26)]
    with pytest.raises(ValueError, match="another listing"):
        list_run_records(profile, default_target_url=target_url, run_id="other",
                         page_token=token or _token_of(profile, target_url))
    history = get_record(profile, default_target_url=target_url, key=["A1"]).history
    assert [(h.run_id, h.action, h.key) for h in history] == [("first", Action.CREATED, ("A1",))]


def _token_of(profile: pb.Profile, url: str) -> str:
    return list_run_records(profile, default_target_url=url, run_id="first",
                            page_size=1).next_page_token


def test_a_rollback_is_refused_when_a_record_it_wrote_is_gone(tmp_path, target_url, q):
    profile, url = woo_profile(tmp_path), target_url
    run(profile, url, "run-1")
    edit_prices(tmp_path / WOO, EDITED)
    run(profile, url, "run-2")
    rollback_run(profile, default_target_url=url, run_id="wipe", undo_run_id="run-1",
                 force=True)
    assert q(url, "SELECT count(*) FROM products") == [(0,)]
    with pytest.raises(RollbackRefusedError, match=r"woo-tshirt \(deleted since\)"):
        rollback_run(profile, default_target_url=url, run_id="late", undo_run_id="run-2")
