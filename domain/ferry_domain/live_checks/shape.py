"""Does the source's shape match the mapping? Missing mapped columns fail
("source changed shape: missing ..."); new unmapped columns pass with a note.
The comparison is the engine's own (``ferry_domain.engine.shape.check_shape``), with
the profile's ``source.options.shape_check`` mode (fail, warn or off).

Shape drift: the probed source's fingerprint (columns, types from its first
rows) against the last good run's (``ferry_domain.engine.fingerprint``), as
the next run would compare them."""

from __future__ import annotations

from ferry.v1 import profile_pb2

from ferry_domain.engine.entities import get_entity
from ferry_domain.engine.errors import EngineError, SourceShapeError
from ferry_domain.engine.fingerprint import Fingerprint, compare, describe, take
from ferry_domain.engine.mapping import MappingPlan
from ferry_domain.engine.shape import check_shape
from ferry_domain.live_checks.results import SHAPE, SHAPE_DRIFT, CheckResult, failed, noted, ok
from ferry_domain.live_checks.sources import Probe


def _without_name(text: str, name: str) -> str:
    return text.removeprefix(f"{name}: ")


def compare_shape(profile: profile_pb2.Profile, name: str, columns: list[str]) -> CheckResult:
    try:
        plan = MappingPlan.from_profile(profile.mapping, get_entity(profile.entity_type))
    except (EngineError, KeyError) as exc:
        return failed(SHAPE, f"the mapping cannot be compiled: {exc}")
    mode = profile.source.options.get("shape_check", "fail").lower()
    try:
        _, warnings = check_shape(name, columns, plan.source_columns, plan.optional_columns,
                                  mode)
    except SourceShapeError as exc:
        return failed(SHAPE, _without_name(str(exc), name))
    if mode == "off":
        return ok(SHAPE, "not compared: source.options.shape_check is off")
    mapped = len(plan.source_columns)
    message = f"all {mapped} mapped source columns are present ({len(columns)} in the source)"
    notes = [_without_name(w, name) for w in warnings]
    if notes:
        message += "; note: " + "; ".join(notes)
    return ok(SHAPE, message)


def compare_drift(profile: profile_pb2.Profile, probe: Probe,
                  last_good: Fingerprint | None) -> CheckResult:
    """The probed source's fingerprint against the last good run's: a note
    (``on_shape_change: warn``) or a failure (``fail``) when it drifted."""
    if last_good is None:
        return ok(SHAPE_DRIFT, "not compared: the profile has no good live run yet")
    drifts = compare(last_good, take(probe.columns or [], probe.rows, probe.kind))
    if not drifts:
        since = f" (run {last_good.run_id})" if last_good.run_id else ""
        return ok(SHAPE_DRIFT, f"the same columns and types as the last good run{since}")
    line = describe(drifts, last_good)
    if profile.on_shape_change == profile_pb2.SHAPE_CHANGE_POLICY_FAIL:
        return failed(SHAPE_DRIFT, f"{line} (on_shape_change: fail: the next run fails)")
    return noted(SHAPE_DRIFT, f"{line} (on_shape_change: warn: the next run warns)")
