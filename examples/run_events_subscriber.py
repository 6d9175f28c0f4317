"""Print Ferry's run lifecycle events as they happen: a subscriber example.

The registry publishes a ``ferry.v1.RunLifecycleEvent`` (protobuf) on the topic
exchange ``<prefix>.run-events`` after every committed state change of a run,
with routing key ``run.queued``, ``run.started``, ``run.completed``,
``run.warning``, ``run.failed``, ``run.unchanged`` or ``run.cancelled``
(see docs/api.md, "Run lifecycle events").

This subscriber binds its own exclusive, auto-deleted queue with a binding key
(default ``run.#``: every event; ``run.failed`` or ``run.*`` narrow it), and
prints one line per event (time, routing key, run, profile, status, attempt,
counts, and the error when there is one), such as

    2026-03-02T12:00:01Z run.completed run=0192... profile=stock status=COMPLETED
    attempt=1/3 read=120 created=100 updated=20 unchanged=0 skipped=0 errors=0

(on one line).

Usage:

    python examples/run_events_subscriber.py --amqp-url amqp://guest:guest@127.0.0.1:5672/%2F \\
        --prefix ferry [--binding-key run.failed] [--count N]

A durable consumer would declare a named durable queue instead, bound the same
way, and ack after handling (events are persistent; the registry publishes them
with confirms). Events arrive in commit order; dedupe on ``event_id``.
"""

from __future__ import annotations

import argparse
import sys

import pika
from ferry.v1 import run_pb2

RUN_EVENT_CONTENT_TYPE = "application/x-protobuf; proto=ferry.v1.RunLifecycleEvent"


def describe(event: run_pb2.RunLifecycleEvent) -> str:
    """One line: time, routing key, run id, profile, status, attempt and counts."""
    run, counts = event.run, event.run.counts
    when = event.event_time.ToJsonString() if event.HasField("event_time") else "-"
    status = run_pb2.RunStatus.Name(run.status).removeprefix("RUN_STATUS_")
    line = (f"{when} {event.routing_key} run={run.id} profile={run.profile} status={status} "
            f"attempt={run.attempt}/{run.max_attempts} read={counts.rows_read} "
            f"created={counts.created} updated={counts.updated} unchanged={counts.unchanged} "
            f"skipped={counts.skipped} errors={counts.errors}")
    if run.error_message:
        line += f" error={run.error_message!r}"
    return line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/%2F",
                        help="RabbitMQ URL (FERRY_AMQP_URL of the registry)")
    parser.add_argument("--prefix", default="ferry",
                        help="FERRY_AMQP_PREFIX of the registry (default: ferry)")
    parser.add_argument("--binding-key", default="run.#",
                        help="topic binding key (default: run.#, every event)")
    parser.add_argument("--count", type=int, default=0,
                        help="exit after this many events (default: run until Ctrl-C)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    exchange = f"{args.prefix}.run-events"
    connection = pika.BlockingConnection(pika.URLParameters(args.amqp_url))
    channel = connection.channel()
    # Same arguments as the registry declares: safe whichever process starts first.
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
    channel.queue_bind(queue, exchange, routing_key=args.binding_key)
    print(f"listening on {exchange} for {args.binding_key}", flush=True)

    seen = 0
    try:
        for _method, properties, body in channel.consume(queue, auto_ack=True):
            if properties.content_type != RUN_EVENT_CONTENT_TYPE:
                print(f"skipped a message of type {properties.content_type!r}",
                      file=sys.stderr, flush=True)
                continue
            event = run_pb2.RunLifecycleEvent.FromString(body)
            if event.schema_version != 1:
                print(f"skipped an event of schema version {event.schema_version}",
                      file=sys.stderr, flush=True)
                continue
            print(describe(event), flush=True)
            seen += 1
            if args.count and seen >= args.count:
                break
    except KeyboardInterrupt:
        pass
    finally:
        if connection.is_open:
            connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
