"""Errors of reading and undoing changesets."""

from __future__ import annotations

from collections.abc import Sequence

from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.engine.targets.changesets.model import show_key

# Keys named in a refusal message; the rest are counted.
NAMED_KEYS = 20


class ChangesetNotFoundError(PermanentSourceError):
    """The run has no changeset in the target: it wrote nothing, ran with
    ``retention.changeset: off``, was a dry run, or its history was purged."""


class RollbackRefusedError(PermanentSourceError):
    """Later runs changed records this rollback would overwrite (``later``:
    each key with the run that wrote it last, or "" when it is gone)."""

    def __init__(self, run_id: str, later: Sequence[tuple[tuple[str, ...], str]]) -> None:
        self.keys = [key for key, _ in later]
        named = "; ".join(
            f"{show_key(k)} ({f'last written by run {r}' if r else 'deleted since'})"
            for k, r in later[:NAMED_KEYS]
        )
        more = f" and {len(later) - NAMED_KEYS} more" if len(later) > NAMED_KEYS else ""
        super().__init__(
            f"rollback of run {run_id} refused: later runs changed {len(later)} of its "
            f"records: {named}{more}; --force overwrites them"
        )
