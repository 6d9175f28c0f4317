"""Changesets: per record, what each live import (or rollback) wrote, kept in
the target database beside the entity table; read back, compared, undone
and purged by runners (the only processes that reach the target).

- ``model``: actions, record changes, key text;
- ``tables``: the changeset tables in the target;
- ``recorder``: how target writers record a batch's changes;
- ``reads``: a run's records, one record and its history;
- ``diff``: how two imports of a profile differ;
- ``rollback``: undoing a run, itself a run with its own changeset;
- ``purge``: dropping the changesets of runs whose history is gone.
"""
