"""PostgreSQL target specifics: COPY-based upserts counting created against
updated, partial writes, exports, and an unreachable database."""

from __future__ import annotations

from pathlib import Path

import pytest
from ferry.v1 import profile_pb2 as pb
from ferry_domain.engine import PermanentSourceError, TransientSourceError, run_profile

pytestmark = pytest.mark.postgres


def _profile(path: Path, batch_size: int = 0, **threshold) -> pb.Profile:
    t = pb.Transform
    fields = [
        pb.FieldMapping(target="sku", source="sku"),
        pb.FieldMapping(target="name", source="name"),
        pb.FieldMapping(target="price", source="price", transforms=[t(name="decimal")]),
        pb.FieldMapping(target="tags", source="tags", transforms=[t(name="split")]),
        pb.FieldMapping(target="active", source="active", transforms=[t(name="boolean")]),
    ]
    profile = pb.Profile(
        name="pg",
        entity_type="products",
        operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_FILE, location=str(path)),
        mapping=pb.Mapping(fields=fields),
        batch_size=batch_size,
    )
    if threshold:
        profile.error_threshold.CopyFrom(pb.ErrorThreshold(**threshold))
    return profile


def test_upserts_count_created_updated_unchanged(tmp_path, postgres_url, q):
    path = tmp_path / "p.csv"
    path.write_text('sku,name,price,tags,active\nA,Shirt,10,"x, y",yes\nB,Hat,1.50,,no\n')
    first = run_profile(_profile(path), dry_run=False, default_target_url=postgres_url)
    assert (first.counts.created, first.counts.updated) == (2, 0)
    path.write_text(
        'sku,name,price,tags,active\nA,Shirt,12,"x, y",yes\nB,Hat,1.50,,no\nC,Cap,3,z,\n'
    )
    dry = run_profile(_profile(path), dry_run=True, default_target_url=postgres_url)
    live = run_profile(_profile(path), dry_run=False, default_target_url=postgres_url)
    assert dry.counts == live.counts
    assert (live.counts.created, live.counts.updated, live.counts.unchanged) == (1, 1, 1)
    rows = q(postgres_url, "select sku, price, tags, active from products order by sku")
    assert [(r[0], float(r[1]), r[2], r[3]) for r in rows] == [
        ("A", 12.0, ["x", "y"], True),
        ("B", 1.5, None, False),
        ("C", 3.0, ["z"], None),
    ]
    assert q(postgres_url, "select count(*) from products where _ferry_updated_at is null") == [
        (0,)
    ]


def test_malformed_file_keeps_only_committed_batches(tmp_path, postgres_url, q):
    path = tmp_path / "p.csv"
    body = "sku,name,price,tags,active\n" + "".join(f"S{i:05d},n,1,,\n" for i in range(5000))
    path.write_bytes(body.encode() + b"S99,caf\xe9,1,,\n")
    profile = _profile(path, batch_size=1000, max_errors=-1)
    profile.source.format.encoding = "utf-8"
    with pytest.raises(PermanentSourceError, match="cannot decode byte 0xe9") as info:
        run_profile(profile, dry_run=False, default_target_url=postgres_url)
    committed = info.value.counts.created
    assert 0 < committed < 5000 and committed % 1000 == 0
    assert q(postgres_url, "select count(*) from products") == [(committed,)]


def test_export_from_postgres(tmp_path, postgres_url):
    path = tmp_path / "p.csv"
    path.write_text("sku,name,price,tags,active\nA,=1+1,10,,yes\n")
    run_profile(_profile(path), dry_run=False, default_target_url=postgres_url)
    export = pb.Profile(
        name="out",
        entity_type="products",
        operation=pb.OPERATION_EXPORT,
        export=pb.ExportSpec(
            directory=str(tmp_path / "out"), format=pb.Format(kind=pb.FORMAT_KIND_CSV)
        ),
    )
    result = run_profile(export, dry_run=False, default_target_url=postgres_url)
    text = Path(result.output_path).read_text()
    assert result.counts.written == 1
    assert "A,'=1+1,,,,,,10," in text


def test_unreachable_database_is_transient(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("sku,name,price,tags,active\nA,n,1,,\n")
    url = "postgresql+psycopg://postgres:pw-do-not-show@127.0.0.1:9/none"
    with pytest.raises(TransientSourceError) as info:
        run_profile(_profile(path), dry_run=False, default_target_url=url)
    assert "pw-do-not-show" not in str(info.value)


def test_export_from_an_unreachable_database_is_transient(tmp_path):
    export = pb.Profile(
        name="out",
        entity_type="products",
        operation=pb.OPERATION_EXPORT,
        export=pb.ExportSpec(directory=str(tmp_path / "out")),
    )
    url = "postgresql+psycopg://postgres:pw-do-not-show@127.0.0.1:9/none"
    with pytest.raises(TransientSourceError) as info:
        run_profile(export, dry_run=False, default_target_url=url)
    assert "pw-do-not-show" not in str(info.value)
    assert not (tmp_path / "out").exists()


def test_fresh_table_copy_falls_back_when_a_key_appears(tmp_path, postgres_url, q):
    """A concurrent writer inserts a key after the run found the table empty:
    the direct COPY hits the unique key and the batch is merged instead."""
    import sqlalchemy as sa
    from ferry_domain.engine import get_entity
    from ferry_domain.engine.batch import Batch
    from ferry_domain.engine.targets.sql_target import open_writer

    schema = get_entity("products")
    engine, writer = open_writer(
        postgres_url, schema, "products", ["sku", "name"], ("sku",), dry_run=False
    )
    try:
        other = sa.create_engine(postgres_url)
        with other.begin() as conn:
            conn.exec_driver_sql("insert into products (sku, name) values ('B', 'theirs')")
        other.dispose()
        counts = writer.write(Batch([["A", "B"], ["a", "ours"], [1, 2]]))
        assert counts == (1, 1, 0)
        assert q(postgres_url, "select sku, name from products order by sku") == [
            ("A", "a"),
            ("B", "ours"),
        ]
    finally:
        writer.close()
        engine.dispose()


def test_concurrent_first_runs_create_a_postgres_table_once(postgres_url):
    import sqlalchemy as sa

    from tests.support.tables import create_at_once

    for attempt in range(3):
        name = f"products_{attempt}"
        assert create_at_once(postgres_url, name) == []
        columns = sa.inspect(sa.create_engine(postgres_url)).get_columns(name)
        assert "_ferry_hash" in {c["name"] for c in columns}
