"""HTTP sources against an in-process transport: which request is sent,
how answers are read, how failures are classified."""

from __future__ import annotations

import httpx
import pytest
import xxhash
from ferry.v1 import profile_pb2 as pb
from ferry_domain.freshness import (
    FreshnessCredentialsError,
    FreshnessPermanentError,
    FreshnessTransientError,
    Verdict,
    probe,
)
from ferry_domain.freshness.tokens import decode, encode
from ferry_domain.profiles.digest import profile_digest
from ferry_domain.runs.states import ErrorClass

URL = "https://feeds.example.com/products.csv?api_key=topsecretkey"
BODY = b"sku,price\nA,1\n"


def http_profile(*methods: int, **source: object) -> pb.Profile:
    return pb.Profile(
        name="feed", operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_HTTP, location=URL, **source),
        freshness=list(methods) or [pb.FRESHNESS_METHOD_HTTP_VALIDATORS],
    )


def client(handler) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_first_request_is_unconditional_and_stores_the_validators() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"ETag": '"v1"', "Last-Modified": "Mon, 02 Nov 2026 "
                                            "10:00:00 GMT"}, content=BODY)

    report = probe(http_profile(), http_client=client(handler))
    assert report.verdict is Verdict.FIRST_SEEN
    assert "if-none-match" not in seen[0].headers
    assert decode(report.current_token)["http_validators"] == {
        "etag": '"v1"', "last_modified": "Mon, 02 Nov 2026 10:00:00 GMT"}


def test_304_is_unchanged_and_validators_are_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(304)

    previous = encode({"http_validators": {"etag": '"v1"',
                                           "last_modified": "Mon, 02 Nov 2026 10:00:00 GMT"},
                       "profile_digest": profile_digest(http_profile())})
    report = probe(http_profile(), previous_token=previous, http_client=client(handler))
    assert report.verdict is Verdict.UNCHANGED
    assert seen[0].headers["if-none-match"] == '"v1"'
    assert seen[0].headers["if-modified-since"] == "Mon, 02 Nov 2026 10:00:00 GMT"
    assert report.current_token == previous


def test_new_etag_is_changed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"ETag": '"v2"'}, content=BODY)

    report = probe(http_profile(), previous_token='{"http_validators":{"etag":"\\"v1\\""}}',
                   http_client=client(handler))
    assert report.verdict is Verdict.CHANGED
    assert "sha" not in decode(report.current_token)["http_validators"]


def test_server_without_validators_falls_back_to_the_body_checksum() -> None:
    body = {"value": BODY}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body["value"])

    http = client(handler)
    first = probe(http_profile(), http_client=http)
    sha = "xxh3_128:" + xxhash.xxh3_128(BODY).hexdigest()
    assert decode(first.current_token)["http_validators"] == {"sha": sha}
    assert probe(http_profile(), previous_token=first.current_token,
                 http_client=http).verdict is Verdict.UNCHANGED
    body["value"] = BODY + b"B,2\n"
    assert probe(http_profile(), previous_token=first.current_token,
                 http_client=http).verdict is Verdict.CHANGED


def test_bearer_token_and_custom_headers_are_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEED_TOKEN", "s3cr3t-token")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"ETag": '"v1"'})

    profile = http_profile(auth=pb.AUTH_KIND_BEARER, credentials_ref="env:FEED_TOKEN",
                           headers={"X-Shop": "eu"})
    probe(profile, http_client=client(handler))
    assert seen[0].headers["authorization"] == "Bearer s3cr3t-token"
    assert seen[0].headers["x-shop"] == "eu"


def test_basic_auth_uses_user_colon_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEED_BASIC", "shop:pa55word")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"ETag": '"v1"'})

    probe(http_profile(auth=pb.AUTH_KIND_BASIC, credentials_ref="env:FEED_BASIC"),
          http_client=client(handler))
    assert seen[0].headers["authorization"] == httpx.BasicAuth("shop", "pa55word")._auth_header


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, FreshnessCredentialsError),
        (403, FreshnessCredentialsError),
        (404, FreshnessPermanentError),
        (429, FreshnessTransientError),
        (500, FreshnessTransientError),
        (503, FreshnessTransientError),
    ],
)
def test_status_codes_are_classified_without_leaking_secrets(
    status: int, error: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEED_TOKEN", "s3cr3t-token")
    profile = http_profile(auth=pb.AUTH_KIND_BEARER, credentials_ref="env:FEED_TOKEN")
    with pytest.raises(error) as caught:
        probe(profile, http_client=client(lambda request: httpx.Response(status)))
    expected = {401: ErrorClass.CREDENTIALS, 403: ErrorClass.CREDENTIALS,
                404: ErrorClass.PERMANENT}
    assert caught.value.error_class == expected.get(status, ErrorClass.TRANSIENT)
    assert str(status) in str(caught.value)
    assert "s3cr3t-token" not in str(caught.value)
    assert "topsecretkey" not in str(caught.value)


def test_timeouts_and_refused_connections_are_transient() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    for handler in (timeout, refused):
        with pytest.raises(FreshnessTransientError):
            probe(http_profile(), http_client=client(handler))


def test_missing_secret_is_a_credentials_error_naming_the_reference() -> None:
    profile = http_profile(auth=pb.AUTH_KIND_BEARER, credentials_ref="env:FERRY_NO_SUCH_VAR")
    with pytest.raises(FreshnessCredentialsError, match="FERRY_NO_SUCH_VAR"):
        probe(profile, http_client=client(lambda request: httpx.Response(200)))


def test_checksum_method_on_http_hashes_the_body_and_304_carries_it() -> None:
    state = {"etag": '"v1"'}
    bodies_sent = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == state["etag"]:
            return httpx.Response(304)
        bodies_sent.append(1)
        return httpx.Response(200, headers={"ETag": state["etag"]}, content=BODY)

    profile = http_profile(pb.FRESHNESS_METHOD_HTTP_VALIDATORS, pb.FRESHNESS_METHOD_CHECKSUM)
    http = client(handler)
    first = probe(profile, http_client=http)
    assert decode(first.current_token)["checksum"] == (
        "xxh3_128:" + xxhash.xxh3_128(BODY).hexdigest())
    again = probe(profile, previous_token=first.current_token, http_client=http)
    assert again.verdict is Verdict.UNCHANGED
    assert again.current_token == first.current_token
    assert len(bodies_sent) == 1
