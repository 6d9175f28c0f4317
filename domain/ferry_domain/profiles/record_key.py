"""A profile's record key: the fields that name one record of its target."""

from __future__ import annotations

from ferry.v1 import profile_pb2

from ferry_domain.engine.entities import get_entity


def key_fields(profile: profile_pb2.Profile) -> tuple[str, ...]:
    """The mapping's ``key_fields``, or the entity's natural key (as the
    engine's ``MappingPlan.from_profile`` finds it). KeyError for an unknown
    entity."""
    if profile.mapping.key_fields:
        return tuple(profile.mapping.key_fields)
    return get_entity(profile.entity_type).key
