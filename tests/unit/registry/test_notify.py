"""Queued-run fan-out and change notifications."""

from __future__ import annotations

import threading

from ferry.v1 import run_pb2
from ferry_registry.notify import QueuedRunFanout, RunChanges


def test_fanout_round_robin_to_live_subscribers_only():
    fanout = QueuedRunFanout()
    assert not fanout.publish(run_pb2.Run(id="nobody-listens"))
    first, second = fanout.subscribe("a"), fanout.subscribe("b")
    for index in range(4):
        assert fanout.publish(run_pb2.Run(id=str(index)))
    got_a = [first.get(0.1).id for _ in range(2)]
    got_b = [second.get(0.1).id for _ in range(2)]
    assert sorted(got_a + got_b) == ["0", "1", "2", "3"]
    second.close()
    fanout.publish(run_pb2.Run(id="4"))
    assert first.get(0.1).id == "4"
    fanout.unsubscribe(first)
    fanout.unsubscribe(second)
    assert fanout.subscribers == 0


def test_changes_wake_waiters_and_close_releases_them():
    changes = RunChanges()
    seen = changes.version
    woke: list[int] = []
    thread = threading.Thread(target=lambda: woke.append(changes.wait(seen, 5)))
    thread.start()
    changes.bump()
    thread.join(2)
    assert woke == [seen + 1]
    assert changes.wait(changes.version, 0.01) == changes.version  # times out quietly
    changes.close()
    assert changes.closed

