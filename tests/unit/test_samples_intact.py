"""The committed commerce samples are byte-identical to the public files their
README describes (same git blob ids), so tests import the real quirks."""

from __future__ import annotations

import hashlib
import re

from tests.support import SAMPLES


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's id


def test_samples_match_their_readme() -> None:
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    expected = dict(re.findall(r"^- `([^`]+)`:.*?Blob ([0-9a-f]{40})", readme, re.M | re.S))
    assert len(expected) == 4
    for name, blob in expected.items():
        assert _blob_id((SAMPLES / name).read_bytes()) == blob, name
