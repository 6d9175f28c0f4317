"""The dry-run gate (pure): after a mapping change, live runs wait for a
passing dry run.

``ApplyProfile`` sets ``dry_run_required`` when the mapping digest changes; a
dry run of the current mapping that ends COMPLETED or WARNING clears it. While
it is set:

- a scheduled live run is still created (the fire is on record) but ends
  FAILED at claim time, without executing, with error class MAPPING, the
  message of ``gated_message`` and the hint of ``gated_hint``. Such a run
  neither counts towards the schedule's auto-pause nor resets the streak, so
  the schedule runs again by itself once a dry run has passed;
- a manual, API or retry live run is refused at creation
  (FAILED_PRECONDITION, ``refusal``) unless it was started with ``force``.
"""

from __future__ import annotations


def blocks(*, dry_run: bool, force: bool, dry_run_required: bool) -> bool:
    """True when a run must not execute live because of the gate."""
    return dry_run_required and not dry_run and not force


def gated_message(profile: str) -> str:
    return (f"dry run required after mapping change: run "
            f"`ferry runs start {profile} --dry-run`")


def gated_hint(profile: str, mapping_digest: str) -> str:
    return (f"the mapping of profile {profile} changed (digest {mapping_digest}) and no dry "
            f"run of it has passed yet; `ferry runs start {profile} --dry-run --wait` checks "
            f"it, then scheduled runs go on by themselves; `ferry runs start {profile} "
            f"--force` runs live anyway")


def refusal(profile: str) -> str:
    return (f"profile {profile}: dry run required after mapping change; run "
            f"`ferry runs start {profile} --dry-run` first, or pass --force "
            f"(StartRunRequest.force) to run live anyway")
