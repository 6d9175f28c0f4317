"""Reading changesets back: the records a run wrote, and one record with the
runs that touched it."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from ferry.v1 import profile_pb2

from ferry_domain.engine.targets.changesets.model import Action, RecordsPage, StoredRecord

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def list_run_records(
    profile: profile_pb2.Profile,
    *,
    default_target_url: str,
    run_id: str,
    actions: Collection[Action] = (),
    page_size: int = DEFAULT_PAGE_SIZE,
    page_token: str = "",
) -> RecordsPage:
    """The records ``run_id`` wrote into the profile's target, in the order it
    wrote them (``actions``: only these; empty: all). ``page_size`` 0 means
    the default, larger than MAX_PAGE_SIZE is coerced. ValueError for a bad
    page token; ChangesetNotFoundError when the run has no changeset."""
    raise NotImplementedError


def get_record(
    profile: profile_pb2.Profile,
    *,
    default_target_url: str,
    key: Sequence[str],
    history_limit: int = 20,
) -> StoredRecord:
    """The profile's target row with ``key`` (one text per key field, in the
    profile's key order; ValueError for the wrong number) and the last
    ``history_limit`` changes of it, newest first."""
    raise NotImplementedError
