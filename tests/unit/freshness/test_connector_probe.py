"""Connector change tokens: both plugin shapes, and failures classified."""

from __future__ import annotations

import pytest
from ferry.v1 import profile_pb2 as pb
from ferry_domain.freshness import (
    FreshnessPermanentError,
    FreshnessTransientError,
    Verdict,
    probe,
)
from ferry_domain.freshness.tokens import decode


def connector_profile(name: str = "shop", **source: object) -> pb.Profile:
    return pb.Profile(
        name="feed", operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_CONNECTOR, connector=name, location="eu",
                         **source),
        freshness=[pb.FRESHNESS_METHOD_CONNECTOR_TOKEN],
    )


class TokenObject:
    def __init__(self, token: str) -> None:
        self.token = token
        self.seen: list[pb.Source] = []

    def change_token(self, source: pb.Source) -> str:
        self.seen.append(source)
        return self.token


def test_object_with_change_token_gets_the_source() -> None:
    plugin = TokenObject("rev-41")
    first = probe(connector_profile(), connector_loader=lambda name: plugin)
    assert decode(first.current_token)["connector_token"] == "rev-41"
    assert plugin.seen[0].location == "eu"
    assert probe(connector_profile(), previous_token=first.current_token,
                 connector_loader=lambda name: plugin).verdict is Verdict.UNCHANGED
    plugin.token = "rev-42"
    report = probe(connector_profile(), previous_token=first.current_token,
                   connector_loader=lambda name: plugin)
    assert report.verdict is Verdict.CHANGED
    assert report.method == "FRESHNESS_METHOD_CONNECTOR_TOKEN"


def test_factory_shape_is_built_with_location_options_and_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOP_KEY", "k3y")
    built = []

    class Reader:
        def __init__(self, location, options, credentials) -> None:
            built.append((location, options, credentials))

        def change_token(self) -> str:
            return "cursor-9"

    profile = connector_profile(options={"shop": "acme"}, credentials_ref="env:SHOP_KEY")
    report = probe(profile, connector_loader=lambda name: Reader)
    assert decode(report.current_token)["connector_token"] == "cursor-9"
    assert built == [("eu", {"shop": "acme"}, "k3y")]


def test_connector_without_change_token_is_a_configuration_error() -> None:
    class Reader:
        def __init__(self, *args) -> None:
            pass

    with pytest.raises(FreshnessPermanentError, match="offers no change_token"):
        probe(connector_profile(), connector_loader=lambda name: Reader)


def test_unknown_connector_is_permanent() -> None:
    with pytest.raises(FreshnessPermanentError, match="no connector named 'nope-xyz'"):
        probe(connector_profile("nope-xyz"))


def test_network_failure_inside_the_plugin_is_transient() -> None:
    class Flaky:
        def change_token(self, source):
            raise ConnectionResetError("peer reset")

    with pytest.raises(FreshnessTransientError):
        probe(connector_profile(), connector_loader=lambda name: Flaky())
