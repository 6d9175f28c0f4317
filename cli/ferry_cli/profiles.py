"""``ferry profiles``: apply YAML files, list, show and delete profiles."""

from __future__ import annotations

from pathlib import Path

import click
import grpc
from ferry.grpc_client import all_pages
from ferry.v1 import profile_pb2, profile_service_pb2
from ferry_domain.profiles.yaml_codec import dump_profile, load_profiles

from ferry_cli.client import CliContext
from ferry_cli.errors import CliError
from ferry_cli.output import local_time, message_dict, print_json, print_table, short_enum

pass_cli = click.make_pass_decorator(CliContext)


@click.group()
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
        local_time(p.update_time),
    ] for p in items]


PROFILE_COLUMNS = ["NAME", "ENTITY", "OPERATION", "SOURCE", "REV", "DRY RUN NEEDED", "UPDATED"]


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
    return "\n".join(header) + "\n" + dump_profile(profile)


@profiles.command("get")
@click.argument("name")
@click.option("-o", "--output", "fmt", type=click.Choice(["yaml", "json"]), default=None,
              help="yaml (default; the file format of 'apply') or json.")
@pass_cli
def get_profile(obj: CliContext, name: str, fmt: str | None) -> None:
    """Show one profile."""
    reply = obj.client.profiles.GetProfile(profile_service_pb2.GetProfileRequest(name=name))
    if (fmt or ("json" if obj.output == "json" else "yaml")) == "json":
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


def _add_validate() -> None:
    from ferry_cli.validate import validate_profile

    profiles.add_command(validate_profile)


_add_validate()
