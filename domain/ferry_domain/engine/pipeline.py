"""run_profile: one run of a profile, import or export.

The profile is checked (``profile_check``), its target resolved, and the run
handed to the import run (``import_run``: read, map and upsert in batches)
or the export run (``export_run``: the target table to a file). Size limits
for reading sources hold for the whole run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ferry.v1 import profile_pb2

from ferry_domain.engine.entities import get_entity
from ferry_domain.engine.errors import MappingError
from ferry_domain.engine.export_run import run_export
from ferry_domain.engine.fingerprint import Fingerprint
from ferry_domain.engine.import_run import ImportRun, bulk_gc
from ferry_domain.engine.job import RunJob
from ferry_domain.engine.limits import SourceLimits
from ferry_domain.engine.limits import using as using_limits
from ferry_domain.engine.profile_check import check_profile
from ferry_domain.engine.results import Counts, RunResult
from ferry_domain.engine.sources.credentials import secret


def target_url(profile: profile_pb2.Profile, default_target_url: str) -> str:
    if profile.target.dsn_ref:
        return secret(profile.target.dsn_ref, "target.dsn_ref")
    if not default_target_url:
        raise MappingError("no target: target.dsn_ref is empty and no default target URL is set")
    return default_target_url


def run_profile(
    profile: profile_pb2.Profile,
    *,
    dry_run: bool,
    default_target_url: str,
    on_progress: Callable[[Counts], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    rejected_sample_size: int = 100,
    file_roots: Sequence[Path] | None = None,
    limits: SourceLimits | None = None,
    last_good_shape: Fingerprint | None = None,
    run_id: str = "",
) -> RunResult:
    """Run ``profile`` once and return its result; raise an ``EngineError``
    for a failure of the source, the target or the profile.

    ``on_progress`` gets a copy of the counts at each batch boundary;
    ``should_cancel`` is asked there too. ``file_roots``: folders file
    sources (and export directories) must stay within (None: not confined);
    ``limits``: size limits for reading sources (None: defaults);
    ``last_good_shape``: the source fingerprint of the profile's last good
    run, which each source part is compared with (None: nothing to compare);
    ``run_id``: the run's id, stamped on the rows it writes and naming its
    changeset (``retention.changeset``; empty: neither)."""
    with using_limits(limits):
        violations = check_profile(profile)
        if violations:
            raise MappingError(
                "profile cannot be run: " + "; ".join(str(v) for v in violations[:10])
            )
        schema = get_entity(profile.entity_type)
        url = target_url(profile, default_target_url)
        job = RunJob(
            profile,
            schema,
            url,
            dry_run=dry_run,
            on_progress=on_progress,
            should_cancel=should_cancel,
            file_roots=file_roots,
            last_good_shape=last_good_shape,
            run_id=run_id,
        )
        if profile.operation == profile_pb2.OPERATION_EXPORT:
            return run_export(job)
        with bulk_gc():
            return ImportRun(job, sample_size=rejected_sample_size).run()
