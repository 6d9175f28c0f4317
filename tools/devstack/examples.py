"""The examples the dev stack sets up: a copy of ``examples/data`` in the state
folder (the example profiles read it there), the profiles of
``examples/*.yaml`` applied to the registry, and the schedules of
``examples/devstack/schedules.yaml`` for profiles that have none. Every step
is idempotent, so a restarted stack changes nothing that is already there."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from ferry.durations import parse_duration_proto
from ferry.grpc_client import RegistryClient
from ferry.v1 import (
    profile_pb2,
    profile_service_pb2,
    run_service_pb2,
    schedule_pb2,
    schedule_service_pb2,
)
from ferry_domain.profiles.yaml_codec import load_profiles

Report = Callable[[str], None]


def copy_example_data(root: Path, state: Path, report: Report) -> Path:
    """Copy each entry of ``examples/data`` that the state folder's copy lacks;
    entries already there are kept, with whatever the runs did to them.
    Returns the copy's folder."""
    source = root / "examples" / "data"
    target = state / "examples" / "data"
    if not source.is_dir():
        return target
    missing = [entry for entry in sorted(source.iterdir()) if not (target / entry.name).exists()]
    target.mkdir(parents=True, exist_ok=True)
    for entry in missing:
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name)
        else:
            shutil.copy2(entry, target / entry.name)
    if missing:
        report(f"example data copied to {target}")
    return target


class ExampleSetup:
    """Apply ``examples/*.yaml`` and create the example schedules, through the
    registry's gRPC API like any other client."""

    def __init__(self, root: Path, registry: str, report: Report) -> None:
        self.root = root
        self.registry = registry
        self.report = report

    def run(self) -> None:
        with RegistryClient(self.registry) as client:
            applied = self.apply_profiles(client)
            self.create_schedules(client, applied)

    def profile_files(self) -> list[Path]:
        return sorted(p for p in (self.root / "examples").glob("*.y*ml") if p.is_file())

    def apply_profiles(self, client: RegistryClient) -> set[str]:
        files = self.profile_files()
        if not files:
            self.report("no example profiles in examples/*.yaml yet")
            return set()
        applied: set[str] = set()
        for path in files:
            try:
                for profile in load_profiles(path.read_text(), path.name):
                    stored = client.profiles.ApplyProfile(
                        profile_service_pb2.ApplyProfileRequest(profile=profile)).profile
                    applied.add(profile.name)
                    if stored.dry_run_required:
                        self._dry_run(client, stored)
            except Exception as exc:  # noqa: BLE001 - report and go on
                self.report(f"could not apply {path.name}: {exc}")
        self.report(f"applied example profiles: {', '.join(sorted(applied)) or 'none'}")
        return applied

    def _dry_run(self, client: RegistryClient, profile: profile_pb2.Profile) -> None:
        """The mapping changed since the last run: queue the dry run it needs."""
        client.runs.StartRun(run_service_pb2.StartRunRequest(
            profile=profile.name, dry_run=True,
            request_id=f"devstack-dry-run:{profile.name}:{profile.revision}"))
        self.report(f"{profile.name}: mapping changed, dry run queued")

    def create_schedules(self, client: RegistryClient, profiles: set[str]) -> None:
        path = self.root / "examples" / "devstack" / "schedules.yaml"
        spec = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
        wanted = {e["profile"]: e for e in spec.get("schedules", []) if e.get("profile")}
        default = spec.get("default") or {}
        kinds = {str(k).lower() for k in default.get("source_kinds", ["file"])}
        existing = client.schedules.ListSchedules(
            schedule_service_pb2.ListSchedulesRequest(page_size=500)).schedules
        have = {s.profile for s in existing}
        created: list[str] = []
        for name in sorted(profiles - have):
            entry = wanted.get(name)
            if entry is None and default:
                profile = client.profiles.GetProfile(
                    profile_service_pb2.GetProfileRequest(name=name)).profile
                kind = profile_pb2.SourceKind.Name(profile.source.kind)
                if kind.removeprefix("SOURCE_KIND_").lower() in kinds:
                    entry = {"profile": name, **default}
            if entry is None:
                continue
            every = str(entry.get("every", "30s"))
            client.schedules.CreateSchedule(schedule_service_pb2.CreateScheduleRequest(
                schedule=interval_schedule(name, every, entry), request_id=f"devstack:{name}"))
            created.append(f"{name} every {every}")
        if created:
            self.report(f"created example schedules: {'; '.join(created)}")


def interval_schedule(profile: str, every: str, entry: dict[str, Any]) -> schedule_pb2.Schedule:
    return schedule_pb2.Schedule(
        profile=profile, time_zone=str(entry.get("time_zone", "UTC")),
        interval=schedule_pb2.IntervalTrigger(every=parse_duration_proto(every)),
        description=str(entry.get("description", "example schedule created by make run")))
