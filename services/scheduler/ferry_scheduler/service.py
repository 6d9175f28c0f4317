"""The scheduler service: its threads, their publishers, start and stop.

Threads (each publishing thread owns its AMQP connection):

- ``loop``: the scheduling loop (``loop.SchedulerLoop``);
- ``outbox``: the outbox sweep (``outbox.OutboxSweeper``);
- ``stream-read`` and ``stream-publish-<n>`` (``FERRY_SCHEDULER_PUBLISHERS``
  of them): runs pushed by ``StreamQueuedRuns``.
"""

from __future__ import annotations

import logging
import threading

from ferry.amqp.publisher import RunPublisher
from ferry.amqp.topology import Topology
from ferry.clock import Clock, SystemClock
from ferry.grpc_client import RegistryClient

from ferry_scheduler.config import SchedulerConfig
from ferry_scheduler.dispatch import DispatchGateway
from ferry_scheduler.handoff import PublishedMarks, RunHandoff
from ferry_scheduler.loop import SchedulerLoop
from ferry_scheduler.outbox import OutboxSweeper
from ferry_scheduler.queued_stream import QueuedRunStream

log = logging.getLogger(__name__)


class SchedulerService:
    def __init__(self, config: SchedulerConfig, clock: Clock | None = None,
                 client: RegistryClient | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.stopping = threading.Event()
        # The composition root passes a client with TLS and the bearer token.
        self.client = client or RegistryClient(config.registry)
        self.gateway = DispatchGateway(self.client, config.scheduler_id, stopping=self.stopping)
        topology = Topology(config.amqp_prefix)
        self._publishers: list[RunPublisher] = []

        self.marks = PublishedMarks(self.gateway, self.stopping)

        def handoff(role: str, marks: PublishedMarks | None = None) -> RunHandoff:
            publisher = RunPublisher(config.amqp_url, topology,
                                     client_name=f"ferry-scheduler:{config.scheduler_id}:{role}")
            self._publishers.append(publisher)
            return RunHandoff(self.gateway, publisher, marks)

        self.loop = SchedulerLoop(self.gateway, handoff("loop"), self.clock,
                                  stopping=self.stopping, poll_interval=config.poll_interval,
                                  lease=config.schedule_lease, batch_size=config.batch_size)
        self.outbox = OutboxSweeper(self.gateway, handoff("outbox"), self.clock,
                                    stopping=self.stopping,
                                    interval=config.outbox_sweep_interval,
                                    republish_after=config.republish_after,
                                    holding=self.loop.holding)
        self.stream = QueuedRunStream(self.gateway, stopping=self.stopping)
        self._threads = [
            threading.Thread(target=self.loop.run, name="loop"),
            threading.Thread(target=self.outbox.run, name="outbox"),
            threading.Thread(target=self.stream.read, name="stream-read"),
        ]
        self._threads.extend(
            threading.Thread(target=self.stream.publish,
                             args=(handoff(f"stream-{n}", self.marks),),
                             name=f"stream-publish-{n}")
            for n in range(config.stream_publishers))
        self._threads.append(threading.Thread(target=self.marks.run, name="marks"))

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        log.info("scheduler %s started (registry %s, exchange %s)", self.config.scheduler_id,
                 self.config.registry, Topology(self.config.amqp_prefix).run_exchange)

    def stop(self, timeout: float = 20.0) -> None:
        """Finish the current pass (releasing the leases held), then close."""
        self.stopping.set()
        self.stream.cancel()
        for thread in self._threads:
            thread.join(timeout=timeout)
            if thread.is_alive():
                log.warning("thread %s did not stop in %.0fs", thread.name, timeout)
        for publisher in self._publishers:
            publisher.close()
        self.client.close()
        log.info("scheduler %s stopped", self.config.scheduler_id)
