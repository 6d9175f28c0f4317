"""Poison messages go to the dead-letter queue; the runner keeps consuming.

Garbage bytes, a RunRequest with schema_version 99, and a request for a run
the registry does not know are each nacked without requeue (dead-lettered)
exactly once; a valid run published after them completes.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import run_request_pb2

from tests.integration.runner import stack
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]


def test_poison_messages_are_dead_lettered_and_consuming_goes_on(
        tmp_path: Path, registry: ServiceProcess) -> None:
    queues = stack.Queues(stack.SHARED_AMQP_URL).declare()
    runner = stack.runner_process(tmp_path, registry.address, queues)
    try:
        runner.start()
        garbage = b"\x00\xff not a protobuf \xde\xad\xbe\xef" * 3
        future = run_request_pb2.RunRequest(schema_version=99, run_id="r-future",
                                            profile="p", attempt=1).SerializeToString()
        unknown_run = run_request_pb2.RunRequest(schema_version=1, run_id="no-such-run",
                                                 profile="p", attempt=1).SerializeToString()
        queues.publish_raw(garbage)
        queues.publish_raw(future)
        queues.publish_raw(unknown_run)
        queues.publish_raw(b'{"run_id": "x"}', content_type="application/json")

        csv_path = stack.write_products_csv(tmp_path / "products.csv", 50)
        with RegistryClient(registry.address) as client:
            stack.apply_profile(client, stack.products_profile("after-poison", csv_path))
            run = stack.start_run(client, "after-poison")
            queues.publish_runs([run])  # no scheduler here: publish it ourselves
            done = stack.wait_terminal(client, run.id, 60, stack.assert_alive(runner))
            assert stack.status_name(done) == "RUN_STATUS_COMPLETED", done

        def dead_lettered() -> bool:
            return queues.depth(queues.topology.dead_letter_queue) >= 4
        stack.wait_for(dead_lettered, 20, "four dead letters")
        time.sleep(0.5)
        bodies = queues.dead_letters()
        assert sorted(bodies) == sorted([garbage, future, unknown_run, b'{"run_id": "x"}'])
        assert queues.depth() == 0
        output = runner.output()
        assert output.count("poison run request dead-lettered") == 4, output[-3000:]
        assert "unknown schema_version 99" in output
        assert runner.alive()
    finally:
        runner.stop()
        queues.delete()
