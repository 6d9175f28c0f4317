"""``ferry profiles``: apply YAML files, list, show and delete profiles, and
list a profile's events."""

from __future__ import annotations

from pathlib import Path

import click
import grpc
from ferry.grpc_client import all_pages
from ferry.v1 import profile_pb2, profile_service_pb2
from ferry_domain.profiles.yaml_codec import dump_profile, load_profiles

from ferry_cli.client import CliContext
from ferry_cli.errors import CliError
from ferry_cli.options import CommandGroup, output_option
from ferry_cli.output import (
    full_time,
    local_time,
    message_dict,
    print_json,
    print_table,
    short_enum,
)
from ferry_cli.staleness import stale_cell
from ferry_cli.validate import validate_profile

pass_cli = click.make_pass_decorator(CliContext)


@click.group(cls=CommandGroup)
def profiles() -> None:
    """Profiles: what to import or export, and how."""


def _existing(obj: CliContext, name: str) -> profile_pb2.Profile | None:
    try:
        reply = obj.client.profiles.GetProfile(profile_service_pb2.GetProfileRequest(name=name))
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise
    return reply.profile


def apply_outcome(previous: profile_pb2.Profile | None,
                  reply: profile_service_pb2.ApplyProfileResponse, validate_only: bool) -> str:
    """created, updated or unchanged; would-create or would-update for a dry run."""
    if validate_only:
        return "would-create" if previous is None else "would-update"
    if reply.created or previous is None:
        return "created"
    if reply.profile.revision == previous.revision:
        return "unchanged"
    return "updated"


def outcome_text(outcome: str, reply: profile_service_pb2.ApplyProfileResponse) -> str:
    text = {"would-create": "valid (would be created)",
            "would-update": "valid (would be updated)"}.get(outcome, outcome)
    if reply.mapping_changed and outcome in ("created", "updated"):
        text += " (mapping changed: a dry run is required before the next live run)"
    return text


@profiles.command("apply")
@click.option("-f", "--file", "path", required=True,
              type=click.Path(dir_okay=False, path_type=Path, allow_dash=True),
              help="YAML file with one or several profiles ('-' reads stdin).")
@click.option("--dry-run", "--validate-only", "validate_only", is_flag=True,
              help="Validate in the registry; store nothing.")
@pass_cli
def apply_profiles(obj: CliContext, path: Path, validate_only: bool) -> None:
    """Create or update every profile in a YAML file."""
    if str(path) == "-":
        text, name = click.get_text_stream("stdin").read(), "<stdin>"
    else:
        text, name = path.read_text(encoding="utf-8"), str(path)
    documents = load_profiles(text, name)  # all documents parse before any is applied
    results = []
    for profile in documents:
        previous = _existing(obj, profile.name)
        reply = obj.client.profiles.ApplyProfile(profile_service_pb2.ApplyProfileRequest(
            profile=profile, validate_only=validate_only))
        outcome = apply_outcome(previous, reply, validate_only)
        results.append((profile.name, outcome, reply))
        if obj.output == "table":
            click.echo(f"profile {profile.name}: {outcome_text(outcome, reply)}")
    if obj.output == "json":
        print_json({"results": [
            {"name": n, "outcome": o, "created": r.created,
             "mappingChanged": r.mapping_changed, "validateOnly": validate_only,
             "profile": message_dict(r.profile)} for n, o, r in results]})


def _source_text(profile: profile_pb2.Profile) -> str:
    if profile.operation == profile_pb2.OPERATION_EXPORT:
        return f"-> {profile.export.directory}" if profile.export.directory else "-"
    kind = short_enum(profile_pb2.SourceKind.Name(profile.source.kind), "SOURCE_KIND_").lower()
    where = profile.source.connector or profile.source.location
    return f"{kind} {where}".strip() if kind != "-" else "-"


def profile_rows(items: list[profile_pb2.Profile]) -> list[list[str]]:
    return [[
        p.name,
        p.entity_type,
        short_enum(profile_pb2.Operation.Name(p.operation), "OPERATION_").lower(),
        _source_text(p),
        str(p.revision),
        "yes" if p.dry_run_required else "no",
        stale_cell(p),
        local_time(p.update_time),
    ] for p in items]


PROFILE_COLUMNS = ["NAME", "ENTITY", "OPERATION", "SOURCE", "REV", "DRY RUN NEEDED", "STALE",
                   "UPDATED"]


@profiles.command("list")
@pass_cli
def list_profiles(obj: CliContext) -> None:
    """List every profile."""
    items: list[profile_pb2.Profile] = list(all_pages(
        obj.client.profiles.ListProfiles,
        profile_service_pb2.ListProfilesRequest(page_size=500), "profiles"))
    if obj.output == "json":
        print_json({"profiles": [message_dict(p) for p in items]})
    else:
        print_table(PROFILE_COLUMNS, profile_rows(items), empty="no profiles")


def profile_yaml(profile: profile_pb2.Profile) -> str:
    """The profile's YAML with its output-only fields as a comment header."""
    header = [f"# revision {profile.revision}, updated {local_time(profile.update_time)}"]
    if profile.mapping_digest:
        header.append(f"# mapping digest {profile.mapping_digest}")
    if profile.dry_run_required:
        header.append("# a dry run is required before the next live run")
    if profile.HasField("stale_since"):
        header.append(f"# stale since {local_time(profile.stale_since)}: no changed input "
                      f"since {local_time(profile.last_change_time)}")
    return "\n".join(header) + "\n" + dump_profile(profile)


@profiles.command("get", params=[output_option(
    ("yaml", "json"), help="yaml (default; the file format of 'apply') or json.")])
@click.argument("name")
@pass_cli
def get_profile(obj: CliContext, name: str) -> None:
    """Show one profile."""
    reply = obj.client.profiles.GetProfile(profile_service_pb2.GetProfileRequest(name=name))
    if obj.output == "json":
        print_json(reply.profile)
    else:
        click.echo(profile_yaml(reply.profile), nl=False)


@profiles.command("delete")
@click.argument("name")
@click.option("--force", is_flag=True, help="Also delete the profile's schedules.")
@pass_cli
def delete_profile(obj: CliContext, name: str, force: bool) -> None:
    """Delete a profile (with --force, its schedules too)."""
    try:
        obj.client.profiles.DeleteProfile(
            profile_service_pb2.DeleteProfileRequest(name=name, force=force))
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
            raise
        raise CliError(f"error: {exc.details()} (ferry profiles delete {name} --force deletes "
                       "its schedules too)") from None
    if obj.output == "json":
        print_json({"deleted": name})
    else:
        click.echo(f"profile {name}: deleted")


EVENT_COLUMNS = ["SEQ", "TIME", "TYPE", "MESSAGE"]


def event_rows(items: list[profile_pb2.ProfileEvent]) -> list[list[str]]:
    return [[str(e.sequence), full_time(e.event_time),
             short_enum(profile_pb2.ProfileEventType.Name(e.type),
                        "PROFILE_EVENT_TYPE_").lower().replace("_", "-"),
             e.message] for e in items]


@profiles.command("events")
@click.argument("name")
@pass_cli
def profile_events(obj: CliContext, name: str) -> None:
    """A profile's events, oldest first: stale, fresh again, auto-paused, and each
    webhook delivery attempt of a stale or auto-paused notice."""
    items: list[profile_pb2.ProfileEvent] = list(all_pages(
        obj.client.profiles.ListProfileEvents,
        profile_service_pb2.ListProfileEventsRequest(name=name, page_size=500), "events"))
    if obj.output == "json":
        print_json({"events": [message_dict(e) for e in items]})
    else:
        print_table(EVENT_COLUMNS, event_rows(items), empty=f"no events for profile {name}")


profiles.add_command(validate_profile)
