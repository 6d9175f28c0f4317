"""Build the registry: database (migrated), stores, servicers, gRPC server,
lease reaper, janitor, stale watch, webhook sender and run event relay. Used by ``__main__``
and, in-process, by tests."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc
from ferry.amqp.publisher import RunEventPublisher
from ferry.amqp.topology import Topology
from ferry.clock import Clock, SystemClock
from ferry.grpc_server import GrpcServer, create_server
from ferry.mask_key import load_mask_key
from ferry.metrics import FerryMetrics
from ferry.v1 import (
    dispatch_service_pb2,
    dispatch_service_pb2_grpc,
    execution_service_pb2,
    execution_service_pb2_grpc,
    profile_service_pb2,
    profile_service_pb2_grpc,
    run_service_pb2,
    run_service_pb2_grpc,
    schedule_service_pb2,
    schedule_service_pb2_grpc,
)

from ferry_registry.config import RegistryConfig
from ferry_registry.db import migrate
from ferry_registry.db.engine import Database
from ferry_registry.janitor import Janitor
from ferry_registry.lifecycle import LifecycleRelay
from ferry_registry.notify import Notifications
from ferry_registry.reaper import LeaseReaper
from ferry_registry.servicers.dispatch import DispatchServicer
from ferry_registry.servicers.execution import ExecutionServicer
from ferry_registry.servicers.profiles import ProfileServicer
from ferry_registry.servicers.record_reads import RecordReads
from ferry_registry.servicers.runs import RunServicer
from ferry_registry.servicers.schedules import ScheduleServicer
from ferry_registry.stale_watch import StaleWatch
from ferry_registry.store.claims import ClaimStore
from ferry_registry.store.expiry import LeaseExpiry
from ferry_registry.store.freshness import FreshnessStore
from ferry_registry.store.history import HistoryStore, KeepRuns
from ferry_registry.store.outbox import Outbox
from ferry_registry.store.profile_events import ProfileEventStore
from ferry_registry.store.profiles import ProfileStore
from ferry_registry.store.runner_tasks import RunnerTaskStore
from ferry_registry.store.runs import RunStore
from ferry_registry.store.schedule_leases import ScheduleLeaseStore
from ferry_registry.store.schedules import ScheduleStore
from ferry_registry.store.transitions import RunTransitions
from ferry_registry.webhook_sender import WebhookSender

log = logging.getLogger(__name__)
SYSTEM_CLOCK = SystemClock()
# Worker threads: up to 64 WatchRun and 16 StreamQueuedRuns streams may hold
# one each; the rest always serve unary calls (claims, heartbeats, finishes).
MAX_WORKERS = 128

SERVICE_NAMES = [
    profile_service_pb2.DESCRIPTOR.services_by_name["ProfileService"].full_name,
    schedule_service_pb2.DESCRIPTOR.services_by_name["ScheduleService"].full_name,
    run_service_pb2.DESCRIPTOR.services_by_name["RunService"].full_name,
    dispatch_service_pb2.DESCRIPTOR.services_by_name["DispatchService"].full_name,
    execution_service_pb2.DESCRIPTOR.services_by_name["ExecutionService"].full_name,
]


@dataclass
class Registry:
    """The parts of a running registry (tests reach in for the reaper and stores)."""

    db: Database
    notes: Notifications
    profiles: ProfileStore
    schedules: ScheduleStore
    runs: RunStore
    claims: ClaimStore
    schedule_leases: ScheduleLeaseStore
    freshness: FreshnessStore
    reaper: LeaseReaper
    history: HistoryStore
    janitor: Janitor
    profile_events: ProfileEventStore
    stale_watch: StaleWatch
    webhooks: WebhookSender
    tasks: RunnerTaskStore
    run_events: LifecycleRelay | None = None


def open_database(url: str) -> Database:
    """Connect and migrate; raises on an unreachable or unusable database."""
    db = Database(url)
    try:
        db.ping()
        migrate.upgrade(db.engine)
    except Exception:
        db.dispose()
        raise
    return db


def build_registry(config: RegistryConfig, clock: Clock,
                   metrics: FerryMetrics | None = None) -> Registry:
    db = open_database(config.database_url)
    run_events = run_event_relay(config) if config.run_events else None
    notes = Notifications(run_events)
    webhooks = WebhookSender(db, clock, metrics=metrics, run_changed=notes.run_changed)
    outbox = Outbox(webhooks.wake)
    transitions = RunTransitions(notes, metrics, outbox)
    history = HistoryStore(db, clock, KeepRuns(config.keep_runs_days, config.keep_min_runs))
    return Registry(
        db=db, notes=notes, profiles=ProfileStore(db, clock),
        schedules=ScheduleStore(db, clock),
        runs=RunStore(db, clock, notes, transitions, config.default_max_attempts),
        claims=ClaimStore(db, clock, notes, transitions,
                          load_mask_key(config.mask_key_ref, config.state_dir)),
        schedule_leases=ScheduleLeaseStore(db, clock), freshness=FreshnessStore(db),
        reaper=LeaseReaper(LeaseExpiry(db, clock, transitions, metrics),
                           config.reaper_interval),
        history=history,
        janitor=Janitor(history, clock, config.janitor_interval, config.file_roots),
        profile_events=ProfileEventStore(db),
        stale_watch=StaleWatch(db, clock, config.stale_check_interval, relay=run_events,
                               metrics=metrics, outbox=outbox),
        webhooks=webhooks,
        tasks=RunnerTaskStore(db, clock, notes),
        run_events=run_events)


def run_event_relay(config: RegistryConfig) -> LifecycleRelay:
    """Lifecycle events to ``<FERRY_AMQP_PREFIX>.run-events``; one try per publish,
    the relay thread paces the reconnects."""
    publisher = RunEventPublisher(config.amqp_url, Topology(config.amqp_prefix),
                                  client_name="ferry-registry-events")
    return LifecycleRelay(publisher)


def create_registry_server(config: RegistryConfig, clock: Clock = SYSTEM_CLOCK,
                           *, start_reaper: bool = True, start_janitor: bool | None = None,
                           interceptors: Sequence[grpc.ServerInterceptor] = (),
                           credentials: grpc.ServerCredentials | None = None,
                           metrics: FerryMetrics | None = None,
                           ) -> tuple[GrpcServer, Callable[[], None]]:
    """Start the registry on ``config.address`` (``host:0`` picks a port).

    Opens and migrates the database, serves the five ``ferry.v1`` services
    (plus health and reflection) and starts the lease reaper, the janitor and
    the stale watch (``start_janitor``, for both, defaults to ``start_reaper``);
    the webhook sender starts with the reaper. ``interceptors``
    (auth, metrics) and ``credentials`` (TLS) come from the composition root;
    ``metrics`` records run counters when given. With ``config.run_events`` a
    thread publishes run lifecycle events; RabbitMQ being down never holds up
    start-up or a call.

    Returns the server and an idempotent ``stop()``: health NOT_SERVING, end
    the streams, stop the reaper, stop the server with grace, publish the
    buffered run events (up to 2 s), close the database. ``server.registry``
    gives tests the stores and the reaper.
    """
    registry = build_registry(config, clock, metrics)
    stopping = threading.Event()

    def register(server: grpc.Server) -> None:
        profile_service_pb2_grpc.add_ProfileServiceServicer_to_server(
            ProfileServicer(registry.profiles, events=registry.profile_events), server)
        schedule_service_pb2_grpc.add_ScheduleServiceServicer_to_server(
            ScheduleServicer(registry.schedules), server)
        run_service_pb2_grpc.add_RunServiceServicer_to_server(
            RunServicer(registry.runs, registry.notes.changes, stopping, registry.tasks,
                        RecordReads(registry.runs, registry.profiles, registry.tasks,
                                    registry.notes.tasks, stopping),
                        config.file_roots),
            server)
        dispatch_service_pb2_grpc.add_DispatchServiceServicer_to_server(
            DispatchServicer(registry.runs, registry.schedule_leases, registry.notes.fanout,
                             stopping, registry.tasks), server)
        execution_service_pb2_grpc.add_ExecutionServiceServicer_to_server(
            ExecutionServicer(registry.claims, registry.freshness, registry.tasks,
                              registry.runs, registry.history), server)

    try:
        server = create_server(config.address, register, SERVICE_NAMES, max_workers=MAX_WORKERS,
                               interceptors=interceptors, credentials=credentials)
    except (OSError, RuntimeError):
        registry.db.dispose()
        raise OSError(f"cannot listen on {config.address} (is the port in use?)") from None
    server.registry = registry  # type: ignore[attr-defined]
    if start_reaper:
        registry.reaper.start()
    if registry.run_events is not None:
        registry.run_events.start()
    if start_reaper if start_janitor is None else start_janitor:
        registry.janitor.start()
        registry.stale_watch.start()
    if start_reaper:
        registry.webhooks.start()
    log.info("registry serving", extra={"fields": {
        "address": f"{config.address.rsplit(':', 1)[0]}:{server.port}",
        "database": registry.db.url.render_as_string(hide_password=True)}})
    lock = threading.Lock()
    done: list[bool] = []

    def stop(grace: float | None = None) -> None:
        with lock:
            if done:
                return
            done.append(True)
        server.set_serving(False)
        stopping.set()
        registry.notes.close()
        registry.reaper.stop()
        registry.janitor.stop()
        registry.stale_watch.stop()
        registry.webhooks.stop()
        server.server.stop(config.grace if grace is None else grace).wait()
        if registry.run_events is not None:
            registry.run_events.stop()  # flushes the buffer for up to 2 s
        registry.db.dispose()
        log.info("registry stopped")

    return server, stop
