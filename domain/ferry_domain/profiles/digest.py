"""The profile digest: one hash of everything in a profile that changes what a
run writes. Pure: no I/O.

A run stores the digest with its freshness token and with the checksums of
the files it imported, so the freshness gate can tell "the source did not
change, but what Ferry would write from it did" (a mapping fix) from "nothing
to do".

What counts: the operation, the entity, the mapping (fields with their
transforms and defaults, key and required fields, defaults, forward fill,
filters), the target (kind, URL reference, table), how the source is decoded
(format and reader options) and, for exports, where and how the file is
written. What does not count: names, descriptions, labels, the source
location and selection (the freshness methods see those), schedules,
retries, thresholds, batch size, retention and freshness settings.

Canonical: the parts become JSON with sorted keys (protobuf maps are sorted
too), mapping fields and filters are sorted by their own canonical form (the
order they are listed in does not change what is written), transforms keep
their order (it does). The same profile gives the same digest in every
process and Python version.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ferry.v1 import profile_pb2
from google.protobuf import json_format

DIGEST_PREFIX = "sha256:"
DIGEST_HEX_CHARS = 16


def _plain(message: Any) -> Any:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _mapping(mapping: profile_pb2.Mapping) -> dict[str, Any]:
    plain = _plain(mapping)
    for name in ("fields", "filters"):
        if name in plain:
            plain[name] = sorted(plain[name], key=_canonical)
    return plain


def digest_parts(profile: profile_pb2.Profile) -> dict[str, Any]:
    """The parts the digest covers, as plain JSON values."""
    parts: dict[str, Any] = {
        "operation": profile_pb2.Operation.Name(profile.operation),
        "entity_type": profile.entity_type,
        "mapping": _mapping(profile.mapping),
        "target": _plain(profile.target),
        "source_format": _plain(profile.source.format),
        "source_options": dict(profile.source.options),
    }
    if profile.operation == profile_pb2.OPERATION_EXPORT:
        parts["export"] = _plain(profile.export)
    return parts


def profile_digest(profile: profile_pb2.Profile) -> str:
    """``sha256:<16 hex digits>`` of ``digest_parts(profile)``."""
    body = _canonical(digest_parts(profile)).encode()
    return DIGEST_PREFIX + hashlib.sha256(body).hexdigest()[:DIGEST_HEX_CHARS]
