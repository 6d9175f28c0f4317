"""Source shapes: per profile, the source shape (columns and sampled types) of
its last good run (``states.is_last_good_run``). ``store_shape`` runs inside
FinishRun's transaction; ``last_good_shape`` is read at claim time, so the
runner compares the source it opens with it."""

from __future__ import annotations

from datetime import datetime

from ferry.v1 import source_shape_pb2

from ferry_registry.store.statements import (
    PROFILE_EXISTS,
    SHAPE_BY_PROFILE,
    SHAPE_INSERT,
    SHAPE_UPDATE,
)


def store_shape(conn, *, profile: str, run_id: str, shape: source_shape_pb2.SourceShape,
                now: datetime) -> None:
    """Keep ``shape`` (read by run ``run_id``) as ``profile``'s last good shape,
    while the profile exists."""
    if conn.execute(PROFILE_EXISTS, {"name": profile}).first() is None:
        return
    kept = source_shape_pb2.SourceShape()
    kept.CopyFrom(shape)
    kept.run_id = run_id
    data = kept.SerializeToString(deterministic=True)
    values = {"b_profile": profile, "b_shape": data, "b_run_id": run_id, "b_now": now}
    if conn.execute(SHAPE_UPDATE, values).rowcount == 0:
        conn.execute(SHAPE_INSERT, {"profile": profile, "shape": data, "run_id": run_id,
                                    "update_time": now})


def last_good_shape(conn, profile: str) -> source_shape_pb2.SourceShape | None:
    """The last good run's source shape of ``profile``; None when it has none."""
    row = conn.execute(SHAPE_BY_PROFILE, {"profile": profile}).first()
    if row is None:
        return None
    return source_shape_pb2.SourceShape.FromString(row.shape)
