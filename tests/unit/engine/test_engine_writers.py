"""Target writers declare what they can do, and the import run drives them by
that: chunk by chunk in one transaction, or whole batches."""

from __future__ import annotations

import pytest
from ferry_domain.engine import get_entity
from ferry_domain.engine.batch import Batch
from ferry_domain.engine.import_run import OpenBatch
from ferry_domain.engine.targets.postgres_upsert import PostgresWriter
from ferry_domain.engine.targets.sql_target import open_writer
from ferry_domain.engine.targets.sqlite_upsert import SqliteWriter
from ferry_domain.engine.targets.writer import AbsentTargetWriter, Capability, TargetWriter


def test_each_writer_declares_its_capabilities():
    assert SqliteWriter.capabilities == Capability.MULTI_ROW_UPSERT | Capability.REUSABLE_LOOKUP
    assert PostgresWriter.capabilities == Capability.BULK_LOAD
    assert AbsentTargetWriter.capabilities == Capability.NONE


def test_a_declared_capability_must_be_implemented():
    with pytest.raises(TypeError, match="declares BULK_LOAD but does not implement write"):

        class Incomplete(TargetWriter):  # noqa: F841 - defining it is the test
            capabilities = Capability.BULK_LOAD

            def classify(self, batch):
                return len(batch), 0, 0

            def close(self):
                pass


class Recorder(TargetWriter):
    """Records the calls the open batch makes."""

    def __init__(self, capabilities: Capability) -> None:
        self.capabilities = capabilities  # type: ignore[misc]
        self.calls: list[str] = []

    def classify(self, batch):
        self.calls.append(f"classify {len(batch)}")
        return len(batch), 0, 0

    def begin(self):
        self.calls.append("begin")

    def write_chunk(self, batch):
        self.calls.append(f"write_chunk {len(batch)}")
        return len(batch), 0, 0

    def commit(self):
        self.calls.append("commit")

    def rollback(self):
        self.calls.append("rollback")

    def write(self, batch):
        self.calls.append(f"write {len(batch)}")
        return 0, len(batch), 0

    def close(self):
        pass


def chunk(n: int) -> Batch:
    return Batch([[f"K{i}" for i in range(n)], list(range(n))])


def test_multi_row_upsert_writes_chunk_by_chunk_in_one_transaction():
    writer = Recorder(Capability.MULTI_ROW_UPSERT)
    batch = OpenBatch(writer, (0,), dry_run=False)
    batch.add(chunk(3), None)
    batch.add(chunk(2), None)
    assert batch.commit() == (5, 0, 0)
    assert writer.calls == ["begin", "write_chunk 3", "write_chunk 2", "commit"]
    batch.add(chunk(1), None)
    batch.discard()
    assert writer.calls[-3:] == ["begin", "write_chunk 1", "rollback"]
    assert batch.commit() == (0, 0, 0)


def test_bulk_load_gets_the_whole_batch_at_the_boundary():
    writer = Recorder(Capability.BULK_LOAD)
    batch = OpenBatch(writer, (0,), dry_run=False)
    batch.add(chunk(3), None)
    batch.add(chunk(2), None)
    assert writer.calls == []
    assert batch.commit() == (0, 5, 0)
    assert writer.calls == ["write 5"]
    dry = OpenBatch(writer, (0,), dry_run=True)
    dry.add(chunk(4), None)
    assert dry.commit() == (4, 0, 0) and writer.calls[-1] == "classify 4"


def test_a_dry_run_classifies_from_a_reusable_lookup():
    writer = Recorder(Capability.MULTI_ROW_UPSERT | Capability.REUSABLE_LOOKUP)
    dry = OpenBatch(writer, (0,), dry_run=True)
    rows = chunk(3)
    dry.add(rows, {"K0": 0, "K1": 99})  # K0 unchanged, K1 changed, K2 new
    assert dry.commit() == (1, 1, 1)
    assert writer.calls == []  # no second read
    dry.add(rows, None)  # nothing looked up: the writer classifies
    assert dry.commit() == (3, 0, 0) and writer.calls == ["classify 3"]


def test_sqlite_dry_run_against_a_missing_database_opens_nothing(tmp_path):
    schema = get_entity("products")
    url = f"sqlite:///{tmp_path / 'absent.db'}"
    _, writer = open_writer(url, schema, "products", ["sku", "name"], ("sku",), True)
    assert isinstance(writer, AbsentTargetWriter)
    assert not (tmp_path / "absent.db").exists()
