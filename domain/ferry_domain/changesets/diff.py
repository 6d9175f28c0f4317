"""How two imports of one profile differ."""

from __future__ import annotations

from ferry.v1 import profile_pb2

from ferry_domain.engine.targets.changesets.model import RunDiff

DEFAULT_KEY_LIMIT = 50


def diff_runs(
    profile: profile_pb2.Profile,
    *,
    default_target_url: str,
    run_a: str,
    run_b: str,
    key_limit: int = DEFAULT_KEY_LIMIT,
) -> RunDiff:
    """The target's change from the end of one run to the end of the other
    (given in either order; the result names the earlier one ``run_a``):
    keys created and deleted, and per field the keys whose value changed,
    first value -> last value. At most ``key_limit`` keys are listed per
    group. ChangesetNotFoundError when either run has no changeset."""
    raise NotImplementedError
