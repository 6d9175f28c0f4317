"""The export run: the export directory confined to the allowed folders, the
target opened, the file written (``export_files``), the run's result.

An export reads the target table in key order and writes one file; it is
cancelled between rows (checked every 10,000) and a cancelled export leaves
no file behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ferry.security.paths import PathNotAllowedError, confine_path
from ferry.v1 import profile_pb2
from sqlalchemy import exc as sa_exc

from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.engine.export_files import write_export
from ferry_domain.engine.job import RunJob
from ferry_domain.engine.results import RunResult
from ferry_domain.engine.run_io import RunOutput
from ferry_domain.engine.targets.sql_target import make_engine
from ferry_domain.engine.targets.writer import classify_db_error
from ferry_domain.runs.states import RunStatus


def run_export(job: RunJob) -> RunResult:
    """Export the profile's entity from the target at ``job.url``. A dry run
    counts the rows and writes no file."""
    profile = job.profile
    if job.file_roots is not None:
        profile = _confined(profile, job.file_roots)
    engine = make_engine(job.url)
    try:
        counts, path, cancelled = write_export(
            profile, job.schema, engine, job.dry_run, job.should_cancel
        )
    except sa_exc.SQLAlchemyError as exc:
        raise classify_db_error(getattr(exc, "orig", None) or exc, "export target") from None
    finally:
        engine.dispose()
    if job.on_progress:
        job.on_progress(counts.copy())
    status = RunStatus.CANCELLED if cancelled else RunStatus.COMPLETED
    outputs = [RunOutput(path, counts.written)] if path else []
    return RunResult(status=status, counts=counts, output_path=path, rows_total=counts.rows_read,
                     outputs=outputs)


def _confined(profile: profile_pb2.Profile, roots: Sequence[Path]) -> profile_pb2.Profile:
    """The profile with its export directory resolved inside ``roots``."""
    try:
        directory = confine_path(profile.export.directory, roots, must_exist=False)
    except PathNotAllowedError as exc:
        raise PermanentSourceError(f"path not allowed: export directory: {exc}") from None
    confined = profile_pb2.Profile()
    confined.CopyFrom(profile)
    confined.export.directory = str(directory)
    return confined
