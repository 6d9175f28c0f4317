"""Page sizes and page tokens (AIP-158)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from ferry.errors import InvalidArgumentError
from ferry_registry.store import pagination


def test_page_size_default_coercion_and_negative():
    assert pagination.page_size(0) == 50
    assert pagination.page_size(7) == 7
    assert pagination.page_size(10_000) == 500
    with pytest.raises(InvalidArgumentError):
        pagination.page_size(-1)


def test_token_round_trip_keeps_types():
    key = [datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "run-1", 42]
    token = pagination.encode_token("runs", "status=1", key)
    assert pagination.decode_token(token, "runs", "status=1") == key
    assert pagination.decode_token("", "runs", "status=1") is None


def _flip(token: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[index] ^= 0x20
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


@pytest.mark.parametrize("index", [0, 5, 20, -2])
def test_tampered_tokens_are_rejected(index):
    token = pagination.encode_token("runs", "", ["2026", "abc"])
    with pytest.raises(InvalidArgumentError) as caught:
        pagination.decode_token(_flip(token, index), "runs", "")
    assert caught.value.violations[0].field == "page_token"


def test_token_is_bound_to_its_list_and_filter():
    token = pagination.encode_token("runs", "profile='a'", ["x"])
    with pytest.raises(InvalidArgumentError, match="filter or order changed"):
        pagination.decode_token(token, "runs", "profile='b'")
    with pytest.raises(InvalidArgumentError, match="another list"):
        pagination.decode_token(token, "profiles", "profile='a'")
    with pytest.raises(InvalidArgumentError):
        pagination.decode_token("!!!", "runs", "")
