"""Hostile and malformed sources through the engine (invariant 8).

Each case of ``hostile_files.GENERATORS`` runs in its own child process
(``python -m tests.faults.hostile_files``) against a fresh SQLite target, so
its peak RSS is measured alone. Every case must end with a clear engine
error (naming the row, line or byte) or a run result with per-row reasons;
never another exception, never a hang, never more rows in the target than
the committed batches, and never more than ``MAX_RSS_MIB`` of memory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.faults import hostile_files as hf
from tests.support.needs import unavailable

MAX_RSS_MIB = 300
REPO = Path(__file__).resolve().parents[2]

Check = Callable[[dict[str, Any], Path], None]


def error(error_class: str, *parts: str) -> Check:
    def check(outcome: dict[str, Any], _folder: Path) -> None:
        assert outcome.get("error_class") == error_class, outcome
        for part in parts:
            assert part in outcome["message"], (part, outcome["message"])
    return check


def finished(status: str, created: int, errors: int = 0,
             extra: Callable[[dict[str, Any], Path], None] | None = None) -> Check:
    def check(outcome: dict[str, Any], folder: Path) -> None:
        assert outcome.get("status") == status, outcome
        assert outcome["created"] == created and outcome["errors"] == errors, outcome
        if extra is not None:
            extra(outcome, folder)
    return check


def stored(folder: Path, sku: str, column: str) -> Any:
    engine = sa.create_engine(f"sqlite:///{folder / 't.db'}")
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT {column} FROM products WHERE sku = :s"),
                                {"s": sku}).scalar()
    finally:
        engine.dispose()


def _mojibake(_outcome: dict[str, Any], folder: Path) -> None:
    # A declared encoding is trusted: UTF-8 bytes read as cp1252.
    assert stored(folder, "SKU-1", "name") == "CafÃ©"


def _injection_kept_as_text(_outcome: dict[str, Any], folder: Path) -> None:
    # Imported verbatim as text (never evaluated); exports neutralise them.
    assert stored(folder, "S1", "name") == "=cmd|' /C calc'!A0"
    assert stored(folder, "S3", "name") == '@HYPERLINK("http://x")'


def _formulas_not_evaluated(outcome: dict[str, Any], folder: Path) -> None:
    # XLSX is read with cached values only: a formula Excel never computed
    # reads as empty; its text is never stored and nothing is evaluated.
    assert stored(folder, "S1", "price") is None
    assert stored(folder, "S2", "name") is None  # row 2 failed: name is empty
    assert outcome["first_error"] == "required field is empty"


def _bom_kept(_outcome: dict[str, Any], folder: Path) -> None:
    # Only a leading BOM is an encoding mark; in the middle it is data.
    assert stored(folder, "\ufeffS2", "name") == "N2"


def _dup_header(outcome: dict[str, Any], folder: Path) -> None:
    assert stored(folder, "SKU-0", "name") == "N0"  # the first 'name' column wins
    assert "name_2" in outcome["warnings"][0]


def _blank_header(outcome: dict[str, Any], _folder: Path) -> None:
    assert "column_3" in outcome["warnings"][0] and "column_6" in outcome["warnings"][0]


EXPECTED: dict[str, Check] = {
    "empty": error("SOURCE_SHAPE", "missing 'sku'"),
    "header_only": finished("COMPLETED", 0),
    "binary_garbage": error("PERMANENT", "binary data, not text", "byte offset"),
    "cp1252_declared_utf8": error("PERMANENT", "cannot decode byte 0xe9 at byte offset",
                                  "after line 2888"),
    "utf8_declared_cp1252": finished("COMPLETED", 1, extra=_mojibake),
    "invalid_utf8": error("PERMANENT", "cannot decode byte 0xff at byte offset 102220"),
    "unbalanced_quote": error("PERMANENT", "row 4 (line 8): unbalanced quote"),
    "single_line_100mb": error("PERMANENT", "a line is longer than 16777216 bytes",
                               "byte offset"),
    "huge_field": error("PERMANENT", "row 3 (line 4): a field is longer than 4194304"),
    "duplicate_headers": finished("COMPLETED", 5, extra=_dup_header),
    "ten_thousand_columns": error("PERMANENT", "10000 columns, above the limit of 4096"),
    "blank_header_names": finished("COMPLETED", 2, extra=_blank_header),
    "ragged_rows": finished("WARNING", 3, errors=1),
    "nul_bytes": error("PERMANENT", "NUL byte at byte offset 102218"),
    "bom_in_the_middle": finished("COMPLETED", 2, extra=_bom_kept),
    "mixed_line_endings": finished("COMPLETED", 4),
    "csv_injection": finished("COMPLETED", 4, extra=_injection_kept_as_text),
    "sparse_6gib": error("PERMANENT", "6442450944 bytes, above the limit of 5368709120"),
    "truncated_gzip": error("PERMANENT", "gzip data is truncated after"),
    "corrupt_gzip": error("PERMANENT", "corrupt gzip data after"),
    "gzip_bomb": error("PERMANENT", "gzip: compression ratio above 200:1",
                       "decompression bomb"),
    "zip_bomb": error("PERMANENT", "declares compression ratio above 200:1"),
    "zip_bomb_small_declared": error("PERMANENT", "corrupt zip data"),
    "zip_many_members": error("PERMANENT", "zip has 2000 members"),
    "zip_no_members": error("PERMANENT", "zip has 0 members"),
    "zip_not_a_zip": error("PERMANENT", "not a readable zip archive"),
    "xlsx_formulas": finished("WARNING", 1, errors=1, extra=_formulas_not_evaluated),
    "xlsx_not_a_zip": error("PERMANENT", "not a readable XLSX workbook"),
    "xlsx_bomb": error("PERMANENT", "declares compression ratio above 200:1"),
    "xlsx_huge_dimension": error("PERMANENT", "sheet 'Products' declares 1048576 rows x "
                                 "16384 columns", "FERRY_MAX_SHEET_CELLS"),
    "xlsx_far_cells": error("PERMANENT", "sheet 'Products' reaches 1048576 rows x 16384 "
                            "columns", "FERRY_MAX_SHEET_CELLS"),
    "json_deep": error("PERMANENT", "JSON nested deeper than"),
    "json_huge_string": error("PERMANENT", "a JSON string is longer than 4194304 bytes"),
    "json_truncated": error("PERMANENT", "invalid JSON after record 99 (row 100)"),
    "ndjson_bad_line": error("PERMANENT", "line 4 (byte offset 197): invalid JSON"),
    "json_records_path_missing": error("SOURCE_SHAPE", "missing 'sku'"),
    "xml_external_entity": error("PERMANENT", "undefined entity &xxe;"),
    "xml_billion_laughs": error("PERMANENT", "amplification factor"),
    "directory_single": error("PERMANENT", "selection SINGLE needs one file"),
    "empty_directory": error("PERMANENT", "no file matches"),
    "fifo": error("PERMANENT", "is not a regular file"),
    "unreadable": error("PERMANENT", "cannot open", "Permission denied"),
    "missing_file": error("PERMANENT", "does not exist"),
}


def test_every_generator_has_an_expectation() -> None:
    assert set(EXPECTED) == set(hf.GENERATORS)
    assert len(EXPECTED) >= 30


def _without_root_file_access() -> list[str]:
    """The argv prefix that takes root's power to read any file away from the
    child (the capabilities that override file permissions), so the unreadable
    case means the same for root as for any other user."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        unavailable("running as root, the unreadable case needs util-linux's setpriv")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]


def _run_child(case: str, folder: Path, timeout: float = 60) -> dict[str, Any]:
    prefix = _without_root_file_access() if case == "unreadable" else []
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "tests.faults.hostile_files", case, str(folder),
         f"sqlite:///{folder / 't.db'}"],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env={k: v for k, v in os.environ.items() if not k.startswith("FERRY_")})
    assert done.returncode == 0, f"{case} crashed the engine:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_hostile_source(case: str, tmp_path: Path) -> None:
    folder = tmp_path / case
    outcome = _run_child(case, folder)
    EXPECTED[case](outcome, folder)
    # Nothing beyond the committed batches reached the target.
    assert outcome["target_rows"] == outcome["committed"], outcome
    assert outcome["maxrss_kib"] < MAX_RSS_MIB * 1024, outcome
    assert "TOP-SECRET-XXE-CONTENT" not in json.dumps(outcome)


def test_committed_batches_stay_and_the_failing_batch_is_not_written(tmp_path: Path) -> None:
    """The bad byte is in the third batch: two batches (2000 rows) stay."""
    outcome = _run_child("cp1252_declared_utf8", tmp_path / "c")
    assert outcome["committed"] == 2000 and outcome["target_rows"] == 2000


def test_a_file_changing_while_read_ends_cleanly(tmp_path: Path) -> None:
    """The file is truncated and rewritten after the first batch: the run
    ends (result or engine error), it does not crash or hang."""
    from ferry_domain.engine import EngineError, run_profile

    path = tmp_path / "moving.csv"
    path.write_text(hf.HEADER + hf.rows(20000))
    profile = hf.profile_for("moving", path, hf.CSV, {})
    target = f"sqlite:///{tmp_path / 't.db'}"
    changed = threading.Event()

    def on_progress(_counts: Any) -> None:
        if not changed.is_set():
            changed.set()
            with path.open("r+b") as handle:
                handle.truncate(1000)
                handle.seek(0, 2)
                handle.write(b'\x00garbage,"\n' * 10)

    try:
        result = run_profile(profile, dry_run=False, default_target_url=target,
                             on_progress=on_progress)
        assert result.counts.rows_read < 20000
        written = result.counts.created
    except EngineError as exc:
        assert exc.message
        written = exc.counts.created if exc.counts is not None else 0
    assert changed.is_set()
    assert hf.target_count(target) == written
