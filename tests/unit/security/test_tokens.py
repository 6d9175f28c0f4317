"""Parsing the token table; looking tokens up; keeping only their hashes."""

from __future__ import annotations

import pickle

import pytest
from ferry.security.roles import Role
from ferry.security.tokens import Principal, TokenTable, TokenTableError

READER = "reader-token-0123456789"
OPERATOR = "operator-token-0123456789"


def test_both_line_forms_comments_and_blank_lines() -> None:
    table = TokenTable.parse(f"# tokens\n\nreader:{READER}\n  alice:operator:{OPERATOR}  \n")
    assert len(table) == 2
    assert table.lookup(READER) == Principal("reader-line3", Role.READER)
    assert table.lookup(OPERATOR) == Principal("alice", Role.OPERATOR)


@pytest.mark.parametrize("presented", ["", "reader-token-012345678", READER + "x",
                                       READER.upper(), f" {READER}"])
def test_near_misses_are_unknown(presented: str) -> None:
    assert TokenTable.parse(f"reader:{READER}").lookup(presented) is None


def test_only_hashes_are_kept_in_memory() -> None:
    table = TokenTable.parse(f"alice:operator:{OPERATOR}\nreader:{READER}")
    dumped = pickle.dumps(table)
    assert OPERATOR.encode() not in dumped and READER.encode() not in dumped
    assert OPERATOR not in repr(table) and READER not in repr(table)


@pytest.mark.parametrize(("text", "message"), [
    ("", "holds no tokens"),
    ("# only a comment\n", "holds no tokens"),
    (f"admin:{READER}", "line 1: unknown role 'admin'"),
    ("reader:short", "line 1: token is shorter than 16 characters"),
    (READER, "line 1: expected role:token or name:role:token"),
    (f"a:b:reader:{READER}", "line 1: expected role:token or name:role:token"),
    (f":reader:{READER}", "line 1: the name before the role is empty"),
    (f"reader:{READER}\noperator:{READER}", "line 2: the same token appears on an earlier line"),
    (f"bob:reader:{READER}\nbob:operator:{OPERATOR}", "line 2: the name 'bob' appears"),
    ("reader:has space in the middle", "line 1: token contains whitespace"),
])
def test_malformed_tables_name_the_line_and_never_the_token(text: str, message: str) -> None:
    with pytest.raises(TokenTableError) as caught:
        TokenTable.parse(text, source="tokens.txt")
    assert message in str(caught.value)
    assert str(caught.value).startswith("tokens.txt")
    assert READER not in str(caught.value) and OPERATOR not in str(caught.value)
