"""One run of a profile as the pipeline hands it to the import or the export
run: the checked profile, its entity, the target URL and the caller's hooks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ferry.v1 import profile_pb2

from ferry_domain.engine.entities import EntitySchema
from ferry_domain.engine.fingerprint import Fingerprint
from ferry_domain.engine.results import Counts


@dataclass(frozen=True)
class RunJob:
    """``on_progress`` gets a copy of the counts at each batch boundary and
    ``should_cancel`` is asked there; ``file_roots``: folders file sources and
    export directories must stay within (None: not confined);
    ``last_good_shape``: the source fingerprint of the profile's last good run,
    which each source part is compared with (None: nothing to compare);
    ``run_id``: the run this is, stamped on the rows it writes and naming
    its changeset (empty: no id, no changeset)."""

    profile: profile_pb2.Profile
    schema: EntitySchema
    url: str
    dry_run: bool
    on_progress: Callable[[Counts], None] | None = None
    should_cancel: Callable[[], bool] | None = None
    file_roots: Sequence[Path] | None = None
    last_good_shape: Fingerprint | None = None
    run_id: str = ""

    @property
    def records_changeset(self) -> bool:
        """A live run with an id records its changeset unless the profile
        turned changesets off."""
        return (
            bool(self.run_id)
            and not self.dry_run
            and self.profile.retention.changeset != profile_pb2.CHANGESET_MODE_OFF
        )
