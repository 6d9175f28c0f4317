"""Reading the masked sample stored with a run (table ``run_samples``,
written by ``ClaimStore.finish``, deleted by ``HistoryStore`` with the run)."""

from __future__ import annotations

from ferry.errors import NotFoundError
from ferry.v1 import run_pb2
from ferry_domain.samples import omitted_note

from ferry_registry.db.models import RunRow, RunSampleRow


def read_sample(session, run: RunRow) -> run_pb2.RunSample:
    """The run's sample; NOT_FOUND when the run stored none."""
    row = session.get(RunSampleRow, run.id)
    if row is None:
        raise NotFoundError(f'sample of run "{run.id}" not found: the run stored none '
                            "(retention.sample_rows is 0, it read no source rows, or it "
                            "was an export, a cancelled or an unchanged run)")
    return run_pb2.RunSample(
        run_id=run.id, columns=list(row.columns or []), omitted_rows=row.omitted_rows,
        note=omitted_note(row.omitted_rows), rows=[run_pb2.RunSampleRow(values=[str(v) for v in r])
                         for r in row.rows or []])
