"""JSON (an array, or the array at a dotted records path) and NDJSON, both
streamed: ijson for JSON, one line at a time for NDJSON."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson

from ferry_domain.engine import limits as source_limits
from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.engine.formats.stream import RecordStream, dict_stream, flatten

# A complete JSON string, and everything up to an unterminated one.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_STRING_REST = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_OUTSIDE = re.compile(rb'[^"]*(?:"[^"\\]*(?:\\.[^"\\]*)*"[^"]*)*', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_NOT_QUOTES_OR_BRACKETS = bytes(b for b in range(256) if b not in b'"[]{}')
_PLAIN_STRING = re.compile(rb'"[^"]*"')


class JsonGuard(io.RawIOBase):
    """Reads a JSON byte stream and refuses nesting deeper than ``max_depth``
    and strings longer than ``max_string`` bytes *before* the parser sees them
    (ijson's memory grows with the square of the depth: a 200 KB file of
    brackets would take gigabytes)."""

    def __init__(self, raw: BinaryIO, name: str, max_depth: int, max_string: int) -> None:
        self._raw = raw
        self._name = name
        self._max_depth = max_depth
        self._max_string = max_string
        self._depth = 0
        self._in_string = False
        self._escape = False
        self._string_len = 0
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        if n:
            self._scan(data)
            self._offset += n
        buffer[:n] = data
        return n

    def _scan(self, data: bytes) -> None:
        if (not self._escape and not data.endswith(b"\\") and b'\\"' not in data
                and b"\\\\" not in data
                and (not self._max_string or self._max_string > len(data))):
            self._scan_fast(data)
        else:
            self._scan_exact(data)

    def _scan_fast(self, data: bytes) -> None:
        """No escaped quote or backslash in the chunk: every quote delimits a
        string, so keeping only quotes and brackets is enough (C speed)."""
        short = data.translate(None, _NOT_QUOTES_OR_BRACKETS)
        if self._in_string:
            short = b'"' + short
        outside = _PLAIN_STRING.sub(b"", short)
        quote = outside.find(b'"')
        if quote < 0:
            self._brackets(outside)
            self._in_string = False
            return
        self._brackets(outside[:quote])
        last = data.rfind(b'"')
        if self._in_string and last < 0:
            self._string_grew(len(data))
        else:
            if not self._in_string or last >= 0:
                self._string_len = 0
            self._string_grew(len(data) - last)
        self._in_string = True

    def _scan_exact(self, data: bytes) -> None:
        i = 0
        if self._in_string:
            if self._escape:
                i, self._escape = 1, False
            end = _STRING_REST.match(data, i)
            if end is None:
                self._string_grew(len(data) - i)
                tail = data[i:]
                self._escape = (len(tail) - len(tail.rstrip(b"\\"))) % 2 == 1
                return
            self._string_grew(end.end() - i)
            self._in_string = False
            i = end.end()
        outside = _OUTSIDE.match(data, i)
        stop = outside.end() if outside else i
        body = data[i:stop]
        self._brackets(_STRING.sub(b"", body).translate(None, _NOT_BRACKETS))
        if self._max_string and len(body) > self._max_string:
            for m in _STRING.finditer(body):  # rare: only chunks longer than the limit
                if m.end() - m.start() > self._max_string:
                    self._too_long(i + m.start())
        if stop < len(data):  # a string opens here and goes on in the next chunk
            self._in_string = True
            self._string_len = 0
            tail = data[stop + 1:]
            self._string_grew(len(tail) + 1)
            self._escape = (len(tail) - len(tail.rstrip(b"\\"))) % 2 == 1

    def _brackets(self, brackets: bytes) -> None:
        depth = self._depth
        for b in brackets:
            if b in (91, 123):  # [ {
                depth += 1
                if self._max_depth and depth > self._max_depth:
                    raise PermanentSourceError(
                        f"{self._name}: JSON nested deeper than {self._max_depth} levels "
                        f"(within bytes {self._offset}-{self._offset + CHUNK_HINT}; "
                        "FERRY_MAX_JSON_DEPTH)")
            else:
                depth -= 1
        self._depth = depth

    def _string_grew(self, n: int) -> None:
        self._string_len += n
        if self._max_string and self._string_len > self._max_string:
            self._too_long(self._offset)

    def _too_long(self, at: int) -> None:
        raise PermanentSourceError(
            f"{self._name}: a JSON string is longer than {self._max_string} bytes "
            f"(near byte offset {at}; FERRY_MAX_FIELD_BYTES)")


CHUNK_HINT = 1 << 16


def read_json(raw: BinaryIO, name: str, records_path: str = "") -> RecordStream:
    prefix = f"{records_path}.item" if records_path else "item"
    limits = source_limits.current()
    # The records sit below the top-level array and the records path.
    outer = 1 + (len(records_path.split(".")) if records_path else 0)
    depth = limits.max_json_depth + outer if limits.max_json_depth else 0
    if depth or limits.max_field_bytes:
        raw = io.BufferedReader(JsonGuard(raw, name, depth, limits.max_field_bytes),
                                buffer_size=CHUNK_HINT)
    return dict_stream(name, _json_records(raw, name, prefix, records_path))


def too_deep(value: Any, limit: int) -> bool:
    """True when ``value`` nests objects/arrays deeper than ``limit`` (iterative)."""
    if not limit:
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False


def _deep_error(name: str, where: str, limit: int) -> PermanentSourceError:
    return PermanentSourceError(
        f"{name}: {where}: JSON nested deeper than {limit} levels (FERRY_MAX_JSON_DEPTH)")


def _json_records(raw: BinaryIO, name: str, prefix: str, path: str) -> Iterator[dict[str, Any]]:
    count = 0
    depth = source_limits.current().max_json_depth
    try:
        for record in ijson.items(raw, prefix, use_float=False):
            count += 1
            if too_deep(record, depth):
                raise _deep_error(name, f"row {count}", depth)
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


def _lines(raw: BinaryIO, name: str) -> Iterator[bytes]:
    """Lines of at most the line limit (a 100 MB line is refused, not held)."""
    limit = source_limits.current().max_line_bytes
    if not limit:
        yield from raw
        return
    offset = 0
    while True:
        line = raw.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            raise PermanentSourceError(
                f"{name}: a line is longer than {limit} bytes (at byte offset {offset}); "
                "limit FERRY_MAX_FIELD_BYTES x 4")
        offset += len(line)
        yield line


def _ndjson_records(raw: BinaryIO, name: str, encoding: str) -> Iterator[dict[str, Any]]:
    offset = 0
    depth = source_limits.current().max_json_depth
    for line_no, line in enumerate(_lines(raw, name), start=1):
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
        except RecursionError:
            raise _deep_error(name, f"line {line_no}", depth) from None
        if not isinstance(record, dict):
            raise PermanentSourceError(f"{name}: line {line_no}: expected a JSON object")
        if too_deep(record, depth):
            raise _deep_error(name, f"line {line_no}", depth)
        yield flatten(record)
