"""Changesets: per record, what each live import (or rollback) wrote, kept in
the target database beside the entity table; read back, compared, undone
and purged by runners (the only processes that reach the target).

- the model (``ferry_domain.engine.targets.changesets``, where the target
  writers record them): actions, record changes, key text;
- ``reads``: a run's records, one record and its history;
- ``diff``: how two imports of a profile differ;
- ``rollback``: undoing a run, itself a run with its own changeset;
- ``purge``: dropping the changesets of runs whose history is gone.
"""

from ferry_domain.engine.targets.changesets.model import (
    Action,
    FieldChange,
    FieldDiff,
    RecordChange,
    RecordsPage,
    RunDiff,
    StoredRecord,
    key_from_text,
    key_text,
    show_key,
)

__all__ = [
    "Action",
    "FieldChange",
    "FieldDiff",
    "RecordChange",
    "RecordsPage",
    "RunDiff",
    "StoredRecord",
    "key_from_text",
    "key_text",
    "show_key",
]
