"""MessageConsumer against the real broker (a private topology per test).

- Handlers that ack early never run more than ``prefetch`` at a time, and
  every message is handled once.
- ``nack(requeue=False)`` dead-letters; a handler that keeps failing is
  requeued only until the queue's delivery limit, then dead-lettered.
- ``stop()`` waits for handlers in progress; their acks still reach the broker.
"""

from __future__ import annotations

import threading
import time

import pytest
from ferry.amqp.consumer import Delivery, MessageConsumer

from tests.integration.runner import stack

pytestmark = [pytest.mark.rabbitmq]


def consume(queues: stack.Queues, handler, prefetch: int) -> tuple[MessageConsumer,
                                                                   threading.Thread]:
    consumer = MessageConsumer(queues.url, queues.topology.run_queue, handler,
                               prefetch=prefetch, topology=queues.topology)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    return consumer, thread


def test_early_acks_do_not_raise_concurrency_above_prefetch(queues: stack.Queues) -> None:
    for i in range(12):
        queues.publish_raw(f"m{i}".encode())
    lock = threading.Lock()
    active, peak, seen = [0], [0], []

    def handler(delivery: Delivery) -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        delivery.ack()  # early, like the runner after a claim
        time.sleep(0.2)
        with lock:
            active[0] -= 1
            seen.append(delivery.body)

    consumer, thread = consume(queues, handler, prefetch=3)
    try:
        stack.wait_for(lambda: len(seen) == 12, 30, "all messages handled")
    finally:
        consumer.stop()
        thread.join(20)
    assert sorted(seen) == sorted(f"m{i}".encode() for i in range(12))
    assert peak[0] == 3
    assert queues.depth() == 0


def test_dead_lettering_and_the_delivery_limit(queues: stack.Queues) -> None:
    queues.publish_raw(b"poison")
    queues.publish_raw(b"crashes")
    attempts: list[bytes] = []

    def handler(delivery: Delivery) -> None:
        attempts.append(delivery.body)
        if delivery.body == b"poison":
            delivery.nack(requeue=False)
            return
        raise RuntimeError("handler bug")  # left unsettled: requeued by the consumer

    consumer, thread = consume(queues, handler, prefetch=1)
    try:
        stack.wait_for(lambda: queues.depth(queues.topology.dead_letter_queue) == 2, 60,
                       "both messages dead-lettered")
    finally:
        consumer.stop()
        thread.join(20)
    assert attempts.count(b"poison") == 1
    # Requeued until the delivery limit (5), then dead-lettered: bounded.
    assert 2 <= attempts.count(b"crashes") <= queues.topology.delivery_limit + 1
    assert sorted(queues.dead_letters()) == [b"crashes", b"poison"]


def test_stop_waits_for_the_handler_and_its_ack(queues: stack.Queues) -> None:
    queues.publish_raw(b"slow")
    started = threading.Event()

    def handler(delivery: Delivery) -> None:
        started.set()
        time.sleep(1.0)
        delivery.ack()

    consumer, thread = consume(queues, handler, prefetch=1)
    assert started.wait(20)
    consumer.stop()
    thread.join(20)
    assert not thread.is_alive()
    assert queues.depth() == 0  # acked before the connection closed


def test_busy_workers_take_waiting_deliveries_without_requeueing_them(
        queues: stack.Queues) -> None:
    """Short handlers that ack early: a delivery that arrives while every
    worker is busy waits for the next free worker; none goes back to the
    broker (a requeue would count towards the delivery limit)."""
    for i in range(30):
        queues.publish_raw(f"m{i}".encode())
    lock = threading.Lock()
    active, peak, seen, redelivered = [0], [0], [], []

    def handler(delivery: Delivery) -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        delivery.ack()
        time.sleep(0.02)
        with lock:
            active[0] -= 1
            seen.append(delivery.body)
            if delivery.redelivered:
                redelivered.append(delivery.body)

    consumer, thread = consume(queues, handler, prefetch=2)
    try:
        stack.wait_for(lambda: len(seen) == 30, 30, "all messages handled")
    finally:
        consumer.stop()
        thread.join(20)
    assert sorted(seen) == sorted(f"m{i}".encode() for i in range(30))
    assert peak[0] <= 2
    assert redelivered == []
    assert queues.depth() == 0
