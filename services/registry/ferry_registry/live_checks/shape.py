"""Does the source's shape match the mapping? Missing mapped columns fail
("source changed shape: missing ..."); new unmapped columns pass with a note.
The comparison is the engine's own (``ferry_domain.engine.shape.check_shape``), with
the profile's ``source.options.shape_check`` mode (fail, warn or off)."""

from __future__ import annotations

from ferry.v1 import profile_pb2
from ferry_domain.engine.entities import get_entity
from ferry_domain.engine.errors import EngineError, SourceShapeError
from ferry_domain.engine.mapping import MappingPlan
from ferry_domain.engine.shape import check_shape

from ferry_registry.live_checks.results import SHAPE, CheckResult, failed, ok


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
