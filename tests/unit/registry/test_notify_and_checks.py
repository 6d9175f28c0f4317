"""Queued-run fan-out, change notifications and the fallback profile checks."""

from __future__ import annotations

import threading

from ferry.v1 import profile_pb2, run_pb2
from ferry_registry import profile_checks
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


def test_fallback_checks_name_the_fields():
    bad = profile_pb2.Profile(name="Not OK", operation=profile_pb2.OPERATION_IMPORT,
                              mapping=profile_pb2.Mapping(fields=[profile_pb2.FieldMapping()]))
    fields = {v.field for v in profile_checks.minimal_checks(bad)}
    assert {"profile.name", "profile.entity_type", "profile.source.kind",
            "profile.source.location", "profile.mapping.fields[0].target"} <= fields
    good = profile_pb2.Profile(name="ok", entity_type="products",
                               operation=profile_pb2.OPERATION_EXPORT,
                               export=profile_pb2.ExportSpec(directory="/out"))
    assert profile_checks.minimal_checks(good) == []


def test_the_name_is_always_checked():
    assert profile_checks.check_name("a" * 64)
    assert profile_checks.check_name("")
    assert profile_checks.check_name("stock-feed_2") == []


def test_stream_slots_refuse_beyond_the_limit():
    import pytest
    from ferry.errors import UnavailableError
    from ferry_registry.servicers.common import StreamSlots

    slots = StreamSlots("WatchRun", 1)
    with slots.hold():
        with pytest.raises(UnavailableError, match="too many open WatchRun streams"):
            with slots.hold():
                pass
    with slots.hold():
        pass
