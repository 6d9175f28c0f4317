"""How two imports of one profile differ: the target's change from the end
of the earlier run to the end of the later one, summed from the changesets
of the runs between (the later run included), record by record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from ferry.v1 import profile_pb2

from ferry_domain.changesets.target import ChangesetTarget, open_changesets
from ferry_domain.engine.targets.changesets.model import (
    Action,
    FieldDiff,
    RecordChange,
    RunDiff,
)

DEFAULT_KEY_LIMIT = 50
# Change rows read at a time.
FETCH_ROWS = 5000


@dataclass
class _Net:
    """One record's change over the range: whether it existed at the start
    and now, each changed field's first and last value."""

    existed: bool
    exists: bool
    first: dict[str, Any] = field(default_factory=dict)
    last: dict[str, Any] = field(default_factory=dict)


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
    group. ChangesetNotFoundError when either run has no changeset;
    ValueError when both are the same run."""
    if run_a == run_b:
        raise ValueError("give two different runs")
    with open_changesets(profile, default_target_url) as target:
        first, second = target.run(run_a), target.run(run_b)
        if first.run_no > second.run_no:  # registered (started) later
            first, second = second, first
        run_a, run_b = first.run_id, second.run_id
        ends = {run.run_id: target.end_of(run) for run in (first, second)}
        nets, runs = _net_changes(target, ends[run_a], ends[run_b])
    created = [k for k, n in nets.items() if not n.existed and n.exists]
    deleted = [k for k, n in nets.items() if n.existed and not n.exists]
    by_field: dict[str, list[tuple[tuple[str, ...], Any, Any]]] = {}
    for key, net in nets.items():
        if not (net.existed and net.exists):
            continue
        for name, first in net.first.items():
            last = net.last.get(name)
            if first != last:
                by_field.setdefault(name, []).append((key, first, last))
    order = {f.name: i for i, f in enumerate(target.schema.fields)}
    fields = [
        FieldDiff(name, changes[:key_limit], len(changes))
        for name, changes in sorted(by_field.items(), key=lambda item: order.get(item[0], 0))
    ]
    return RunDiff(
        run_a,
        run_b,
        created[:key_limit],
        len(created),
        deleted[:key_limit],
        len(deleted),
        fields,
        runs,
    )


def _net_changes(
    target: ChangesetTarget, after: int, upto: int
) -> tuple[dict[tuple[str, ...], _Net], list[str]]:
    changes, runs = target.changes, target.runs
    assert changes is not None and runs is not None
    rows = target.conn.execute(
        sa.select(changes, runs.c.run_id)
        .join(runs, runs.c.run_no == changes.c.run_no)
        .where(changes.c.seq > after, changes.c.seq <= upto)
        .order_by(changes.c.seq)
        .execution_options(yield_per=FETCH_ROWS)
    )
    nets: dict[tuple[str, ...], _Net] = {}
    seen_runs: dict[str, None] = {}
    for row in rows:
        seen_runs.setdefault(row.run_id, None)
        for change in target.changes_in(row, row.run_id):
            net = nets.get(change.key)
            if net is None:
                existed = change.action is not Action.CREATED
                net = nets[change.key] = _Net(existed=existed, exists=True)
            _apply(net, change)
    return nets, list(seen_runs)


def _apply(net: _Net, change: RecordChange) -> None:
    if change.action is Action.CREATED:
        net.exists = True
        return
    if change.action is Action.DELETED:
        net.exists = False
        return
    for field_change in change.fields:
        net.first.setdefault(field_change.field, field_change.before)
        net.last[field_change.field] = field_change.after
