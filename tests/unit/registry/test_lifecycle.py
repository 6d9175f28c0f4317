"""The run event relay without a broker (a scripted publisher), the routing keys,
and the FERRY_RUN_EVENTS / FERRY_AMQP_* settings of the registry."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from ferry.amqp.errors import PublishError
from ferry.amqp.messages import run_lifecycle_event
from ferry.amqp.topology import Topology, run_event_routing_key
from ferry.config import ConfigError
from ferry.v1 import run_pb2
from ferry_registry.config import RegistryConfig
from ferry_registry.lifecycle import RECONNECT, LifecycleRelay, RelaySettings

from tests.support.net import wait_until

WHEN = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def reconnect(initial: float, maximum: float) -> RelaySettings:
    return RelaySettings(reconnect=replace(RECONNECT, initial_backoff=initial,
                                           max_backoff=maximum),
                         idle_interval=0.05)


FAST = reconnect(0.01, 0.05)


class ScriptedPublisher:
    """Stands in for RunEventPublisher: ``down`` refuses connections, ``refuse``
    names routing keys the broker nacks; what was published is kept in order,
    and the size of each batch in ``calls``."""

    def __init__(self) -> None:
        self.topology = Topology("ferry-unit")
        self.down = threading.Event()
        self.refuse: set[str] = set()
        self.sent: list[run_pb2.RunLifecycleEvent] = []
        self.calls: list[int] = []
        self.attempts = 0
        self.closed = False
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    def connect(self) -> None:
        if self.down.is_set():
            self._open = False
            raise PublishError("cannot connect to RabbitMQ: refused")
        self._open = True

    def process_events(self) -> None:
        pass

    def publish_many(self, events: list[run_pb2.RunLifecycleEvent]) -> list[bool]:
        self.attempts += 1
        self.connect()
        self.calls.append(len(events))
        outcomes = []
        for event in events:
            refused = event.routing_key in self.refuse
            if not refused:
                self.sent.append(event)
            outcomes.append(not refused)
        return outcomes

    def close(self) -> None:
        self.closed = True


def run(run_id: str, status: int = run_pb2.RUN_STATUS_QUEUED, attempt: int = 1) -> run_pb2.Run:
    return run_pb2.Run(id=run_id, profile="stock", status=status, attempt=attempt)


def keys(events: list[run_pb2.RunLifecycleEvent]) -> list[tuple[str, str]]:
    return [(e.run.id, e.routing_key) for e in events]


def test_routing_keys_name_every_status_and_running_is_started():
    assert [run_event_routing_key(s) for s in range(1, 8)] == [
        "run.queued", "run.started", "run.completed", "run.warning", "run.failed",
        "run.cancelled", "run.unchanged"]
    with pytest.raises(ValueError):
        run_event_routing_key(run_pb2.RUN_STATUS_UNSPECIFIED)


def test_event_message_carries_schema_version_id_key_time_and_run():
    event = run_lifecycle_event(run("r1", run_pb2.RUN_STATUS_FAILED), WHEN, sequence=42)
    assert event.schema_version == 1
    assert event.sequence == 42
    assert event.routing_key == "run.failed"
    assert len(event.event_id) == 32
    assert event.event_time.ToDatetime(UTC) == WHEN
    assert event.run.id == "r1"
    assert run_lifecycle_event(run("r1"), WHEN).event_id != event.event_id


def test_events_are_published_in_submission_order():
    publisher = ScriptedPublisher()
    relay = LifecycleRelay(publisher, FAST)
    relay.start()
    statuses = [run_pb2.RUN_STATUS_QUEUED, run_pb2.RUN_STATUS_RUNNING,
                run_pb2.RUN_STATUS_COMPLETED]
    for n in range(20):
        for status in statuses:
            relay.submit(run(f"r{n}", status), WHEN)
    wait_until(lambda: len(publisher.sent) == 60, timeout=5, what="60 events")
    relay.stop()
    assert keys(publisher.sent) == [(f"r{n}", key) for n in range(20)
                                    for key in ("run.queued", "run.started", "run.completed")]
    assert relay.published == 60 and relay.pending == 0 and publisher.closed


def test_submit_never_waits_for_a_broker_that_is_down_and_nothing_is_lost_or_reordered():
    publisher = ScriptedPublisher()
    publisher.down.set()
    relay = LifecycleRelay(publisher, FAST)
    relay.start()
    began = time.monotonic()
    for n in range(100):
        relay.submit(run(f"r{n}"), WHEN)
    assert time.monotonic() - began < 0.5
    wait_until(lambda: publisher.attempts >= 3, timeout=5, what="reconnect attempts")
    assert publisher.sent == [] and relay.pending == 100
    publisher.down.clear()
    wait_until(lambda: len(publisher.sent) == 100, timeout=5, what="the backlog")
    relay.stop()
    assert keys(publisher.sent) == [(f"r{n}", "run.queued") for n in range(100)]


def test_a_full_buffer_drops_the_oldest_events_and_counts_them():
    publisher = ScriptedPublisher()
    publisher.down.set()
    relay = LifecycleRelay(publisher, replace(reconnect(0.01, 0.02), capacity=3))
    relay.start()
    for n in range(5):
        relay.submit(run(f"r{n}"), WHEN)
    assert relay.pending == 3 and relay.dropped == 2
    publisher.down.clear()
    wait_until(lambda: len(publisher.sent) == 3, timeout=5, what="the kept events")
    relay.stop()
    assert [e.run.id for e in publisher.sent] == ["r2", "r3", "r4"]


def test_an_event_the_broker_refuses_is_dropped_and_the_rest_go_on():
    publisher = ScriptedPublisher()
    publisher.refuse = {"run.failed"}
    relay = LifecycleRelay(publisher, FAST)
    relay.start()
    relay.submit(run("r1", run_pb2.RUN_STATUS_FAILED), WHEN)
    relay.submit(run("r2", run_pb2.RUN_STATUS_COMPLETED), WHEN)
    wait_until(lambda: len(publisher.sent) == 1, timeout=5, what="the next event")
    relay.stop()
    assert keys(publisher.sent) == [("r2", "run.completed")]
    assert relay.dropped == 1


def test_stop_gives_up_quickly_when_the_broker_is_down():
    publisher = ScriptedPublisher()
    publisher.down.set()
    relay = LifecycleRelay(publisher, RelaySettings(reconnect=replace(
        RECONNECT, initial_backoff=5.0, max_backoff=5.0)))
    relay.start()
    relay.submit(run("r1"), WHEN)
    began = time.monotonic()
    relay.stop(timeout=0.5)
    assert time.monotonic() - began < 2
    assert relay.pending == 1 and publisher.closed


def test_run_events_are_on_by_default_from_the_environment(tmp_path):
    config = RegistryConfig.from_env({"FERRY_STATE_DIR": str(tmp_path)})
    assert config.run_events is True
    assert config.amqp_url == "amqp://guest:guest@127.0.0.1:5672/%2F"
    assert config.amqp_prefix == "ferry"
    config = RegistryConfig.from_env({
        "FERRY_STATE_DIR": str(tmp_path), "FERRY_RUN_EVENTS": "off",
        "FERRY_AMQP_URL": "amqps://u:p@mq:5671/ferry", "FERRY_AMQP_PREFIX": "shop1"})
    assert (config.run_events, config.amqp_url, config.amqp_prefix) == (
        False, "amqps://u:p@mq:5671/ferry", "shop1")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("FERRY_RUN_EVENTS", "maybe", "FERRY_RUN_EVENTS"),
    ("FERRY_AMQP_URL", "http://mq", "FERRY_AMQP_URL"),
    ("FERRY_AMQP_PREFIX", "two words", "FERRY_AMQP_PREFIX"),
])
def test_bad_run_event_settings_fail_fast(tmp_path, name, value, message):
    with pytest.raises(ConfigError, match=message):
        RegistryConfig.from_env({"FERRY_STATE_DIR": str(tmp_path), name: value})


def test_a_batching_publisher_gets_the_backlog_in_few_calls_in_order_and_nacks_drop():
    publisher = ScriptedPublisher()
    publisher.down.set()
    publisher.refuse = {"run.failed"}
    relay = LifecycleRelay(publisher, FAST)
    relay.start()
    for n in range(100):
        relay.submit(run(f"r{n}", run_pb2.RUN_STATUS_FAILED if n == 50
                         else run_pb2.RUN_STATUS_QUEUED), WHEN)
    wait_until(lambda: publisher.attempts >= 2, timeout=5, what="reconnect attempts")
    publisher.down.clear()
    wait_until(lambda: relay.pending == 0, timeout=5, what="the backlog")
    relay.stop()
    assert [e.run.id for e in publisher.sent] == [f"r{n}" for n in range(100) if n != 50]
    assert relay.published == 99 and relay.dropped == 1
    assert max(publisher.calls) > 1


def test_an_outage_warns_once_per_interval_not_once_per_attempt(caplog):
    publisher = ScriptedPublisher()
    publisher.down.set()
    relay = LifecycleRelay(publisher, replace(reconnect(0.01, 0.01),
                                              outage_log_interval=0.3))
    with caplog.at_level("INFO", logger="ferry_registry.lifecycle"):
        relay.start()
        relay.submit(run("r1"), WHEN)
        wait_until(lambda: publisher.attempts >= 30, timeout=5, what="reconnect attempts")
        publisher.down.clear()
        wait_until(lambda: len(publisher.sent) == 1, timeout=5, what="the event")
        relay.stop()
    warnings = [r for r in caplog.records if r.getMessage().startswith("cannot publish")]
    assert 1 <= len(warnings) <= publisher.attempts // 5
    (back,) = [r for r in caplog.records if r.getMessage() == "publishing run events"]
    assert back.fields["outage_s"] > 0  # type: ignore[attr-defined]
