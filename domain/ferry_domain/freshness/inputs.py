"""Checksums for the files a run read (``RunInput.checksum``), computed once.

The freshness gate may have hashed the file already (the CHECKSUM method on
one file, or a drop folder's chosen file): ``known_checksums`` takes those.
``with_checksums`` fills the rest, hashing a file here only when it is at
most ``HASH_LIMIT`` bytes (XXH3-128 reads the page cache at GB/s, so this
costs milliseconds); a larger file the gate did not hash keeps an empty
checksum rather than being read a second time just for the record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ferry.v1 import profile_pb2

from ferry_domain.engine.run_io import RunInput
from ferry_domain.freshness.decision import FreshnessReport
from ferry_domain.freshness.errors import FreshnessPermanentError
from ferry_domain.freshness.files import CHECKSUM_PREFIX, hash_file

HASH_LIMIT = 64 * 1024 * 1024


def known_checksums(report: FreshnessReport, paths: Sequence[Path] | None) -> dict[str, str]:
    """The per-file checksum the gate computed: the CHECKSUM method's token
    when it hashed exactly one file ({} otherwise: a token over several files
    is not any one file's checksum)."""
    if not paths or len(paths) != 1:
        return {}
    for result in report.results:
        token = result.token
        if (result.method == profile_pb2.FRESHNESS_METHOD_CHECKSUM and isinstance(token, str)
                and token.startswith(CHECKSUM_PREFIX)):
            return {str(paths[0]): token}
    return {}


def with_checksums(inputs: Iterable[RunInput], known: Mapping[str, str],
                   limit: int = HASH_LIMIT) -> list[RunInput]:
    """``inputs`` with each file's checksum: from ``known``, else hashed when
    at most ``limit`` bytes, else left empty. URL inputs are kept as they are."""
    filled = []
    for item in inputs:
        checksum = item.checksum or known.get(item.path, "")
        if not checksum and not item.is_url and item.size_bytes <= limit:
            try:
                checksum = CHECKSUM_PREFIX + hash_file(Path(item.path)).hexdigest()
            except FreshnessPermanentError:
                checksum = ""  # moved or removed since it was read: record it without
        filled.append(replace(item, checksum=checksum) if checksum else item)
    return filled
