"""HTTP freshness against real servers on 127.0.0.1."""

from __future__ import annotations

import pytest
from ferry.v1 import profile_pb2 as pb
from ferry_domain.freshness import (
    FreshnessCredentialsError,
    FreshnessPermanentError,
    Verdict,
    probe,
)
from ferry_domain.freshness.tokens import decode


def http_profile(url: str, *methods: int, **source: object) -> pb.Profile:
    return pb.Profile(
        name="feed", operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_HTTP, location=url, **source),
        freshness=list(methods) or [pb.FRESHNESS_METHOD_HTTP_VALIDATORS],
    )


def test_304_means_unchanged_and_no_body_is_sent(feed_server) -> None:
    profile = http_profile(feed_server.url)
    first = probe(profile)
    assert first.verdict is Verdict.FIRST_SEEN
    assert decode(first.current_token)["http_validators"]["etag"] == feed_server.state.etag

    again = probe(profile, previous_token=first.current_token)
    assert again.verdict is Verdict.UNCHANGED
    assert again.method == "FRESHNESS_METHOD_HTTP_VALIDATORS"
    last = feed_server.state.log[-1]
    assert last.headers["if-none-match"] == feed_server.state.etag
    assert last.headers["if-modified-since"] == feed_server.state.last_modified
    assert (last.status, last.body_bytes) == (304, 0)


def test_changed_content_gives_a_new_etag_and_changed(feed_server) -> None:
    profile = http_profile(feed_server.url)
    first = probe(profile)
    feed_server.state.body += b"C,3\n"
    feed_server.state.modified += 60
    report = probe(profile, previous_token=first.current_token)
    assert report.verdict is Verdict.CHANGED
    assert report.to_proto().previous_token == first.current_token


def test_server_ignoring_validators_falls_back_to_the_body_checksum(ignoring_server) -> None:
    profile = http_profile(ignoring_server.url)
    first = probe(profile)
    assert set(decode(first.current_token)["http_validators"]) == {"sha"}
    again = probe(profile, previous_token=first.current_token)
    assert ignoring_server.state.log[-1].status == 200
    assert again.verdict is Verdict.UNCHANGED
    ignoring_server.state.body = ignoring_server.state.body.replace(b"A,1", b"A,5")
    assert probe(profile, previous_token=first.current_token).verdict is Verdict.CHANGED


def test_server_repeating_the_same_etag_on_200_is_checked_by_checksum(feed_server) -> None:
    feed_server.state.honour_validators = False
    profile = http_profile(feed_server.url)
    first = probe(profile)
    again = probe(profile, previous_token=first.current_token)
    assert feed_server.state.log[-1].status == 200
    assert again.verdict is Verdict.UNCHANGED
    assert "sha" in decode(again.current_token)["http_validators"]


def test_wrong_credentials_and_missing_path(feed_server, monkeypatch: pytest.MonkeyPatch) -> None:
    feed_server.state.required_auth = "Bearer right-token"
    monkeypatch.setenv("FEED_TOKEN", "wrong-token")
    profile = http_profile(feed_server.url, auth=pb.AUTH_KIND_BEARER,
                           credentials_ref="env:FEED_TOKEN")
    with pytest.raises(FreshnessCredentialsError) as caught:
        probe(profile)
    assert "wrong-token" not in str(caught.value)
    monkeypatch.setenv("FEED_TOKEN", "right-token")
    assert probe(profile).verdict is Verdict.FIRST_SEEN
    with pytest.raises(FreshnessPermanentError, match="404"):
        probe(http_profile(feed_server.url.replace("feed.csv", "gone.csv")))
