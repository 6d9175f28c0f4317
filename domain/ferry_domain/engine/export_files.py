"""Export files: an entity from the target to CSV, JSON or XLSX in a folder,
with a dated file name, written atomically (temporary file, then rename). CSV
and XLSX cells that a spreadsheet would run as formulas are neutralised
(``cells``). The export run around it is ``export_run``."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from ferry.v1 import profile_pb2
from sqlalchemy import exc as sa_exc

from ferry_domain.cells import neutralise_cell
from ferry_domain.engine.entities import EntitySchema
from ferry_domain.engine.errors import PermanentSourceError, TransientSourceError
from ferry_domain.engine.results import Counts
from ferry_domain.engine.targets.tables import build_table

FETCH_ROWS = 2000
_EXT = {"csv": "csv", "json": "json", "xlsx": "xlsx"}


def export_format(fmt: profile_pb2.Format) -> str:
    return {
        profile_pb2.FORMAT_KIND_JSON: "json",
        profile_pb2.FORMAT_KIND_XLSX: "xlsx",
    }.get(fmt.kind, "csv")


def export_name(prefix: str, ext: str, now: datetime) -> str:
    return f"{prefix}_{now.strftime('%Y%m%dT%H%M%SZ')}.{ext}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _rows(engine: sa.Engine, table: sa.Table, key: tuple[str, ...]) -> Iterator[tuple]:
    fields = [c for c in table.columns if not c.name.startswith("_ferry_")]
    query = sa.select(*fields).order_by(*(table.c[k] for k in key))
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=FETCH_ROWS).execute(query)
        yield from result


def write_export(
    profile: profile_pb2.Profile,
    schema: EntitySchema,
    engine: sa.Engine,
    dry_run: bool,
    should_cancel: Callable[[], bool] | None = None,
    now: datetime | None = None,
) -> tuple[Counts, str, bool]:
    """Return (counts, output path, cancelled). A dry run counts rows only."""
    table_name = profile.target.table or schema.name
    counts = Counts()
    if not sa.inspect(engine).has_table(table_name):
        raise PermanentSourceError(
            f"table {table_name!r} does not exist in the target; nothing has been imported yet"
        )
    table = build_table(schema, table_name)
    columns = [f.name for f in schema.fields]
    fmt = export_format(profile.export.format)
    directory = Path(profile.export.directory)
    name = export_name(
        profile.export.file_prefix or schema.name, _EXT[fmt], now or datetime.now(UTC)
    )
    rows = _rows(engine, table, schema.key)
    try:
        if dry_run:
            for _ in rows:
                counts.rows_read += 1
            return counts, "", False
        directory.mkdir(parents=True, exist_ok=True)
        final = directory / name
        n = 2
        while final.exists():
            final = directory / name.replace(f".{_EXT[fmt]}", f"-{n}.{_EXT[fmt]}")
            n += 1
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".ferry-", suffix=".part")
        os.close(fd)
        try:
            cancelled = _write(fmt, tmp, columns, rows, counts, should_cancel)
            if cancelled:
                os.unlink(tmp)
                return counts, "", True
            os.replace(tmp, final)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except sa_exc.OperationalError as exc:
        raise TransientSourceError(f"export read failed: {str(exc.orig).splitlines()[0]}") from None
    except OSError as exc:
        raise PermanentSourceError(f"cannot write export to {directory}: {exc.strerror}") from None
    return counts, str(final), False


def _write(fmt, tmp, columns, rows, counts: Counts, should_cancel) -> bool:
    check_every = 10000
    if fmt == "csv":
        with open(tmp, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([neutralise_cell(_text(v)) for v in row])
                counts.rows_read += 1
                counts.written += 1
                if counts.written % check_every == 0 and should_cancel and should_cancel():
                    return True
    elif fmt == "json":
        with open(tmp, "w", encoding="utf-8") as out:
            out.write("[")
            for row in rows:
                record = {c: _json_value(v) for c, v in zip(columns, row, strict=True)}
                out.write(("," if counts.written else "") + "\n")
                out.write(json.dumps(record, ensure_ascii=False))
                counts.rows_read += 1
                counts.written += 1
                if counts.written % check_every == 0 and should_cancel and should_cancel():
                    return True
            out.write("\n]\n")
    else:
        # openpyxl loads with the first XLSX export (a fifth of a second of
        # CPU), as the readers load with their format (formats.dispatch).
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("export")
        sheet.append(columns)
        for row in rows:
            sheet.append([_xlsx_value(v) for v in row])
            counts.rows_read += 1
            counts.written += 1
            if counts.written % check_every == 0 and should_cancel and should_cancel():
                return True
        book.save(tmp)
    return False


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, str):
        return neutralise_cell(value)
    if isinstance(value, list):
        return neutralise_cell(", ".join(str(v) for v in value))
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
