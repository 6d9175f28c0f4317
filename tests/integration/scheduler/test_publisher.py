"""RunPublisher against the real broker: confirmed, persistent, schema version 1;
bounded reconnect, then PublishError."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from ferry.amqp.errors import PublishError
from ferry.amqp.messages import run_request
from ferry.amqp.publisher import PUBLISH_RETRY, RunPublisher
from ferry.amqp.topology import RUN_REQUEST_CONTENT_TYPE, Topology

from tests.integration.scheduler.support import AMQP_URL, Broker
from tests.support.net import free_port


def unbind_run_queue(broker: Broker) -> None:
    """Leave the run exchange without a queue: run requests are unroutable."""
    channel = broker.channel()
    channel.queue_unbind(broker.topology.run_queue, broker.topology.run_exchange,
                         routing_key=broker.topology.run_routing_key)
    channel.close()


def test_published_request_is_on_the_queue_persistent_with_schema_version_1(broker: Broker):
    with RunPublisher(AMQP_URL, broker.topology) as publisher:
        publisher.publish(run_request("run-1", "stock", 2, publish_count=3))
        # Confirmed means enqueued: no wait needed before reading it back.
        properties, message = broker.get_one()
    assert message.schema_version == 1
    assert (message.run_id, message.profile, message.attempt, message.publish_count) == (
        "run-1", "stock", 2, 3)
    assert message.HasField("publish_time")
    assert properties.delivery_mode == 2
    assert properties.content_type == RUN_REQUEST_CONTENT_TYPE
    assert properties.headers["schema_version"] == 1
    assert broker.get_one() is None


def test_publisher_reconnects_when_its_connection_was_closed(broker: Broker):
    with RunPublisher(AMQP_URL, broker.topology) as publisher:
        publisher.publish(run_request("run-1", "p", 1))
        publisher._connection.close()  # as if the broker dropped us
        publisher.publish(run_request("run-2", "p", 1))
    assert [m.run_id for m in broker.drain()] == ["run-1", "run-2"]


def test_unreachable_broker_raises_publish_error_after_bounded_retries():
    url = f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F"
    publisher = RunPublisher(url, Topology("ferry-test-nowhere"),
                             retry=replace(PUBLISH_RETRY, max_attempts=3, initial_backoff=0.05,
                                           max_backoff=0.1))
    started = time.monotonic()
    with pytest.raises(PublishError, match="cannot publish run r-1"):
        publisher.publish(run_request("r-1", "p", 1))
    assert time.monotonic() - started < 5


def test_unroutable_request_raises_publish_error(broker: Broker):
    unbind_run_queue(broker)
    publisher = RunPublisher(AMQP_URL, broker.topology, declare=False)
    try:
        with pytest.raises(PublishError, match="returned"):
            publisher.publish(run_request("r-1", "p", 1))
    finally:
        publisher.close()


def test_each_thread_can_own_a_publisher(broker: Broker):
    def work(index: int) -> None:
        with RunPublisher(AMQP_URL, broker.topology) as publisher:
            for n in range(20):
                publisher.publish(run_request(f"t{index}-{n}", "p", 1))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m.run_id for m in broker.drain()) == sorted(
        f"t{i}-{n}" for i in range(4) for n in range(20))


def test_publish_many_confirms_a_batch_in_order(broker: Broker):
    with RunPublisher(AMQP_URL, broker.topology) as publisher:
        errors = publisher.publish_many([run_request(f"run-{n}", "p", 1) for n in range(40)])
        assert errors == [None] * 40
        assert publisher.published == 40
    assert [m.run_id for m in broker.drain()] == [f"run-{n}" for n in range(40)]


def test_publish_many_reports_each_returned_request(broker: Broker):
    unbind_run_queue(broker)
    publisher = RunPublisher(AMQP_URL, broker.topology, declare=False)
    try:
        errors = publisher.publish_many([run_request(f"r-{n}", "p", 1) for n in range(3)])
        assert [str(e) for e in errors] == [
            f"run r-{n}: the broker returned the message (no queue bound to "
            f"{broker.topology.run_exchange})" for n in range(3)]
        assert publisher.published == 0  # confirmed, but returned: on no queue
    finally:
        publisher.close()
