"""Dropping changesets whose run history is gone (the registry purged the run)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from ferry.v1 import profile_pb2


def purge_changesets(
    profile: profile_pb2.Profile,
    *,
    default_target_url: str,
    kept: Callable[[Sequence[str]], Collection[str]],
) -> list[str]:
    """Delete the changesets of the profile's runs that ``kept`` (given the
    run ids that have one; asks the registry) does not return; the run ids
    purged. Nothing is purged when the target has no changeset tables."""
    raise NotImplementedError
