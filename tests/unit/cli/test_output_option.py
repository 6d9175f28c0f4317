"""``-o/--output`` before or after the command, like kubectl."""

from __future__ import annotations

import json

import click
import pytest
from ferry.v1 import profile_pb2, profile_service_pb2, run_pb2, run_service_pb2
from ferry_cli.app import cli


def leaf_commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield (*path, name), command


@pytest.mark.parametrize("path", [" ".join(p) for p, _ in leaf_commands(cli)])
def test_every_command_takes_output_after_its_name(path, invoke):
    result = invoke(*path.split(), "--help")
    assert result.exit_code == 0, result.output
    assert "-o, --output" in result.stdout


@pytest.fixture
def one_run(fake_registry):
    fake_registry.replies["ListRuns"] = run_service_pb2.ListRunsResponse(
        runs=[run_pb2.Run(id="r-1", profile="stock-feed")])
    return fake_registry


@pytest.mark.parametrize("args", [
    ("-o", "json", "runs", "list", "--profile", "stock-feed"),
    ("runs", "list", "--profile", "stock-feed", "--limit", "200", "-o", "json"),
    ("runs", "list", "--output", "json", "--profile", "stock-feed"),
    ("-o", "table", "runs", "list", "-o", "json"),
])
def test_json_before_or_after_the_command(args, invoke, one_run):
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"runs": [{"id": "r-1", "profile": "stock-feed"}],
                                         "staleProfiles": []}


def test_the_option_after_the_command_wins(invoke, one_run):
    result = invoke("-o", "json", "runs", "list", "-o", "table")
    assert result.exit_code == 0, result.output
    assert result.stdout.split()[:2] == ["ID", "PROFILE"]


def test_unknown_format_after_the_command_is_a_usage_error(invoke, one_run):
    result = invoke("runs", "list", "-o", "xml")
    assert result.exit_code == 2
    assert "'xml' is not one of 'table', 'json'" in result.stderr
    assert one_run.calls == []


def test_profiles_get_also_takes_yaml(invoke, fake_registry):
    fake_registry.replies["GetProfile"] = profile_service_pb2.GetProfileResponse(
        profile=profile_pb2.Profile(name="customers", entity_type="customers"))
    assert json.loads(invoke("profiles", "get", "customers", "-o", "json").stdout)["name"] \
        == "customers"
    assert json.loads(invoke("-o", "json", "profiles", "get", "customers").stdout)["name"] \
        == "customers"
    for args in (("profiles", "get", "customers"),
                 ("-o", "json", "profiles", "get", "customers", "-o", "yaml")):
        assert "name: customers" in invoke(*args).stdout
