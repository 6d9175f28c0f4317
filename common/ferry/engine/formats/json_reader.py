"""JSON (an array, or the array at a dotted records path) and NDJSON, both
streamed: ijson for JSON, one line at a time for NDJSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson

from ferry.engine.errors import PermanentSourceError
from ferry.engine.formats.stream import RecordStream, dict_stream, flatten


def read_json(raw: BinaryIO, name: str, records_path: str = "") -> RecordStream:
    prefix = f"{records_path}.item" if records_path else "item"
    return dict_stream(name, _json_records(raw, name, prefix, records_path))


def _json_records(raw: BinaryIO, name: str, prefix: str, path: str) -> Iterator[dict[str, Any]]:
    count = 0
    try:
        for record in ijson.items(raw, prefix, use_float=False):
            count += 1
            yield flatten(record)
    except ijson.JSONError as exc:
        raise PermanentSourceError(
            f"{name}: invalid JSON after record {count} (row {count + 1}): {exc}"
        ) from None
    except UnicodeDecodeError as exc:
        raise PermanentSourceError(f"{name}: JSON is not UTF-8 ({exc.reason})") from None
    if count == 0 and path:
        # Distinguish "empty array" from "nothing at that path" cheaply is not
        # possible in one pass; an empty result with a path is reported.
        return


def read_ndjson(raw: BinaryIO, name: str, encoding: str = "") -> RecordStream:
    return dict_stream(name, _ndjson_records(raw, name, encoding or "utf-8-sig"))


def _ndjson_records(raw: BinaryIO, name: str, encoding: str) -> Iterator[dict[str, Any]]:
    offset = 0
    for line_no, line in enumerate(raw, start=1):
        start = offset
        offset += len(line)
        if not line.strip():
            continue
        text = ""
        try:
            text = line.decode(encoding)
            record = json.loads(text)
        except UnicodeDecodeError as exc:
            raise PermanentSourceError(
                f"{name}: line {line_no}: cannot decode byte at byte offset {start + exc.start}"
            ) from None
        except json.JSONDecodeError as exc:
            raise PermanentSourceError(
                f"{name}: line {line_no} (byte offset {start + len(text[: exc.pos].encode())}): "
                f"invalid JSON: {exc.msg}"
            ) from None
        if not isinstance(record, dict):
            raise PermanentSourceError(f"{name}: line {line_no}: expected a JSON object")
        yield flatten(record)
