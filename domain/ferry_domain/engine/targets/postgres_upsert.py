"""PostgreSQL upserts: per batch, COPY the rows into a session temporary
staging table, then one INSERT ... SELECT ... ON CONFLICT DO UPDATE ...
WHERE row hash IS DISTINCT FROM ..., RETURNING (xmax = 0) to count created
against updated; the rest are unchanged. Dry runs read stored hashes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql

from ferry_domain.engine.batch import Batch, classify
from ferry_domain.engine.errors import PermanentSourceError, TransientSourceError
from ferry_domain.engine.targets.changesets.model import KEY_SEPARATOR, Action
from ferry_domain.engine.targets.changesets.recorder import (
    CHANGE_COLUMNS,
    ChangeRecorder,
)
from ferry_domain.engine.targets.changesets.tables import KEYS_CREATED
from ferry_domain.engine.targets.tables import HASH_COLUMN, META_COLUMNS, RUN_COLUMN, UPDATED_COLUMN
from ferry_domain.engine.targets.writer import Capability, TargetTable, TargetWriter

PG_TYPES = {
    "string": "text",
    "email": "text",
    "integer": "bigint",
    "decimal": "numeric",
    "boolean": "boolean",
    "date": "date",
    "datetime": "timestamptz",
}


class PostgresWriter(TargetWriter):
    capabilities = Capability.BULK_LOAD

    def __init__(
        self,
        engine: sa.Engine,
        target: TargetTable,
        *,
        run_id: str = "",
        recorder: ChangeRecorder | None = None,
    ) -> None:
        self._raw = engine.raw_connection()
        self._con: psycopg.Connection = self._raw.driver_connection  # type: ignore[assignment]
        self._con.autocommit = False
        table, columns, key, exists = target.name, target.columns, target.key, target.exists
        self._exists = exists
        self._key = key
        self._key_index = target.key_index
        self._json = [i for i, t in enumerate(target.types) if t == "list"]
        key_types = [target.types[i] for i in self._key_index]
        ident = sql.Identifier
        STAGE = f"_ferry_stage_{uuid.uuid4().hex[:12]}"  # noqa: N806 - per writer
        self._drop_stage = sql.SQL("DROP TABLE IF EXISTS {s}").format(s=ident(STAGE))
        t = ident(table)
        cols = [*columns, HASH_COLUMN]
        col_list = sql.SQL(", ").join(ident(c) for c in cols)
        self._stage_ready = False
        # Empty at the start: during the first source part every key is new
        # (the pipeline drops duplicates), so batches COPY straight into the
        # table; a unique violation (a concurrent writer) falls back to the
        # staged merge for that batch.
        self._fresh = (
            not exists
            or self._con.execute(sql.SQL("SELECT 1 FROM {t} LIMIT 1").format(t=t)).fetchone()
            is None
        )
        self._con.rollback()
        self._run_id = run_id or None
        self._recorder = recorder
        self._copy_direct = sql.SQL("COPY {t} ({cols}, {upd}, {run}) FROM STDIN").format(
            t=t, cols=col_list, upd=ident(UPDATED_COLUMN), run=ident(RUN_COLUMN)
        )
        self._create_stage = sql.SQL(
            "CREATE TEMP TABLE IF NOT EXISTS {s} ON COMMIT DELETE ROWS AS "
            "SELECT {cols} FROM {t} WITH NO DATA"
        ).format(s=ident(STAGE), cols=col_list, t=t)
        self._copy = sql.SQL("COPY {s} ({cols}) FROM STDIN").format(s=ident(STAGE), cols=col_list)
        self._merge = merge_statement(target, ident(STAGE), run_id, recorder)
        if recorder is not None:
            self._insert_change = sql.SQL("INSERT INTO {c} ({cols}) VALUES ({marks})").format(
                c=ident(recorder.changes_table),
                cols=sql.SQL(", ").join(ident(c) for c in CHANGE_COLUMNS),
                marks=sql.SQL(", ").join(sql.Placeholder() for _ in CHANGE_COLUMNS),
            )
        names = [f"k{i}" for i in range(len(key))]
        join = sql.SQL(" AND ").join(
            sql.SQL("{t}.{c} = k.{n}").format(t=t, c=ident(c), n=ident(n))
            for c, n in zip(key, names, strict=True)
        )
        if len(key) == 1:
            self._select = sql.SQL(
                "SELECT {k}, {h} FROM {t} WHERE {k} = ANY({arr}::{typ}[])"
            ).format(
                k=ident(key[0]),
                h=ident(HASH_COLUMN),
                t=t,
                arr=sql.Placeholder(),
                typ=sql.SQL(PG_TYPES.get(key_types[0], "text")),
            )
            return
        self._select = sql.SQL(
            "SELECT {tk}, {t}.{h} FROM {t} JOIN unnest({arrays}) AS k({names}) ON {join}"
        ).format(
            tk=sql.SQL(", ").join(sql.SQL("{t}.{c}").format(t=t, c=ident(c)) for c in key),
            t=t,
            h=ident(HASH_COLUMN),
            arrays=sql.SQL(", ").join(
                sql.SQL("{}::{}[]").format(sql.Placeholder(), sql.SQL(PG_TYPES.get(kt, "text")))
                for kt in key_types
            ),
            names=sql.SQL(", ").join(ident(n) for n in names),
            join=join,
        )

    def _existing(self, batch: Batch) -> dict[Any, int]:
        return self.lookup(batch.keys(self._key_index))

    def lookup(self, keys: list[Any]) -> dict[Any, int]:
        if not self._exists or self._fresh or not keys:
            return {}
        if len(self._key) == 1:
            arrays = [keys]
        else:
            arrays = [list(col) for col in zip(*keys, strict=True)]
        found: dict[Any, int] = {}
        with self._con.cursor() as cur:
            cur.execute(self._select, arrays)
            for *k, h in cur:
                found[k[0] if len(k) == 1 else tuple(k)] = h
        return found

    def classify(self, batch: Batch) -> tuple[int, int, int]:
        try:
            created, updated, unchanged, _ = classify(batch, self._key_index, self._existing(batch))
            self._con.rollback()
        except psycopg.Error as exc:
            raise _error(exc) from None
        return created, updated, unchanged

    def _direct(self, cols: list[list]) -> bool:
        """COPY into the table itself (and the keys into the changeset);
        False when a key already exists."""
        con = self._con
        now = datetime.now(UTC)
        run = self._run_id
        try:
            with con.cursor() as cur:
                with cur.copy(self._copy_direct) as copy:
                    write_row = copy.write_row
                    for row in zip(*cols, strict=True):
                        write_row((*row, now, run))
                recorder = self._recorder
                if recorder is not None:
                    keys = Batch(cols).keys(self._key_index)
                    recorder.before_insert(cur)
                    cur.execute(self._insert_change, recorder.created(keys))
                    recorder.before_commit(cur)
            con.commit()
            return True
        except psycopg.errors.UniqueViolation:
            self._rollback()
            self._fresh = False
            return False
        except psycopg.Error as exc:
            self._rollback()
            raise _error(exc) from None

    def write(self, batch: Batch) -> tuple[int, int, int]:
        con = self._con
        cols = list(batch.cols)
        for i in self._json:
            cols[i] = [
                json.dumps(x, ensure_ascii=False, default=str) if x is not None else None
                for x in cols[i]
            ]
        if self._fresh and self._direct(cols):
            return len(batch), 0, 0
        try:
            with con.cursor() as cur:
                if not self._stage_ready:
                    cur.execute(self._create_stage)
                    self._stage_ready = True
                with cur.copy(self._copy) as copy:
                    write_row = copy.write_row
                    for row in zip(*cols, strict=True):
                        write_row(row)
                if self._recorder is not None:
                    self._recorder.before_insert(cur)
                cur.execute(self._merge)
                created, changed = cur.fetchone()
                if self._recorder is not None:
                    self._recorder.before_commit(cur)
            con.commit()
        except psycopg.Error as exc:
            self._rollback()
            self._stage_ready = False
            raise _error(exc) from None
        return created, changed - created, len(batch) - changed

    def _rollback(self) -> None:
        if self._recorder is not None:
            self._recorder.rolled_back()
        try:
            self._con.rollback()
        except psycopg.Error:
            pass

    def end_part(self) -> None:
        self._fresh = False

    def close(self) -> None:
        try:
            self._con.rollback()
            if self._stage_ready:
                self._con.execute(self._drop_stage)
                self._con.commit()
        except psycopg.Error:
            pass
        self._raw.close()


def merge_statement(
    target: TargetTable, stage: sql.Identifier, run_id: str, recorder: ChangeRecorder | None
) -> sql.Composed:
    """The upsert of the staged batch, answering (created, written). With a
    changeset, the same statement records it: ``old`` reads the stored rows
    the upsert will change (every sub-statement sees the snapshot from before
    it), ``c`` inserts a change row per updated row, with the changed fields
    before and after, and ``k`` one row of the created rows' keys."""
    ident = sql.Identifier
    t = ident(target.name)
    key = target.key
    cols = sql.SQL(", ").join(ident(c) for c in [*target.columns, HASH_COLUMN])
    updates = sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=ident(c))
        for c in [*target.columns, *META_COLUMNS]
        if c not in key
    )
    upsert = sql.SQL(
        "INSERT INTO {t} ({cols}, {upd}, {run}) SELECT {cols}, now(), {run_id} FROM {s} "
        "ON CONFLICT ({keys}) DO UPDATE SET {updates} "
        "WHERE {t}.{h} IS DISTINCT FROM EXCLUDED.{h} "
    ).format(
        t=t,
        cols=cols,
        upd=ident(UPDATED_COLUMN),
        run=ident(RUN_COLUMN),
        run_id=sql.Literal(run_id or None),
        s=stage,
        keys=sql.SQL(", ").join(ident(k) for k in key),
        updates=updates,
        h=ident(HASH_COLUMN),
    )
    if recorder is None:
        return sql.SQL(
            "WITH m AS ({upsert} RETURNING (xmax = 0) AS _ferry_created) "
            "SELECT count(*) FILTER (WHERE _ferry_created), count(*) FROM m"
        ).format(upsert=upsert)

    def joined(a: str, b: str) -> sql.Composable:
        return sql.SQL(" AND ").join(
            sql.SQL("{a}.{k} = {b}.{k}").format(a=ident(a), b=ident(b), k=ident(k)) for k in key
        )

    # Not compared: Ferry's columns, the key, and the created flag of m.
    skipped = sql.Literal([*META_COLUMNS, *key, "_ferry_created"])
    return sql.SQL(
        "WITH old AS (SELECT {t}.* FROM {t} JOIN {s} ON {t_s} "
        "WHERE {t}.{h} IS DISTINCT FROM {s}.{h}), "
        "m AS ({upsert} RETURNING {t}.*, (xmax = 0) AS _ferry_created), "
        "c AS (INSERT INTO {changes} ({change_cols}) "
        "SELECT {run_no}, {key_text}, {updated}, "
        "d.before, d.after, old.{h} FROM m JOIN old ON {m_old} "
        "LEFT JOIN LATERAL (SELECT jsonb_object_agg(o.key, o.value)::text AS before, "
        "jsonb_object_agg(o.key, n.value)::text AS after "
        "FROM jsonb_each(to_jsonb(old) - {skipped}::text[]) AS o "
        "JOIN jsonb_each(to_jsonb(m) - {skipped}::text[]) AS n ON n.key = o.key "
        "WHERE o.value IS DISTINCT FROM n.value) AS d ON true), "
        "k AS (INSERT INTO {changes} (run_no, action, after) "
        "SELECT {run_no}, {keys_created}, json_agg({key_text})::text FROM m "
        "WHERE m._ferry_created HAVING count(*) > 0) "
        "SELECT count(*) FILTER (WHERE _ferry_created), count(*) FROM m"
    ).format(
        t=t,
        s=stage,
        t_s=sql.SQL(" AND ").join(
            sql.SQL("{t}.{k} = {s}.{k}").format(t=t, s=stage, k=ident(k)) for k in key
        ),
        h=ident(HASH_COLUMN),
        upsert=upsert,
        changes=ident(recorder.changes_table),
        change_cols=sql.SQL(", ").join(ident(c) for c in CHANGE_COLUMNS),
        run_no=sql.Literal(recorder.run_no),
        key_text=sql.SQL("concat_ws({sep}, {parts})").format(
            sep=sql.Literal(KEY_SEPARATOR),
            parts=sql.SQL(", ").join(sql.SQL("m.{k}::text").format(k=ident(k)) for k in key),
        ),
        keys_created=sql.Literal(KEYS_CREATED),
        updated=sql.Literal(int(Action.UPDATED)),
        m_old=joined("m", "old"),
        skipped=skipped,
    )


def _error(exc: psycopg.Error) -> Exception:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, psycopg.OperationalError):
        return TransientSourceError(f"PostgreSQL target: {text}")
    return PermanentSourceError(f"PostgreSQL target: {type(exc).__name__}: {text}")
