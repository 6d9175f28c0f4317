"""Text decoding of byte streams: declared encodings, BOM handling and
detection (UTF-8 first, then charset-normalizer, then Windows-1252), with
errors that name the byte offset."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import BinaryIO

from charset_normalizer import from_bytes

from ferry.engine.errors import PermanentSourceError

SAMPLE_BYTES = 1 << 16


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read into ``head``."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


def _looks_binary(sample: bytes) -> int:
    """Offset of a NUL byte in text that is not UTF-16/32, else -1."""
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return -1
    return sample.find(b"\x00")


def detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(sample[:SAMPLE_BYTES]).best()
    if best is None:
        return "cp1252"
    name = codecs.lookup(best.encoding).name
    # Short Western samples are often guessed as a sibling code page; the
    # Windows-1252 superset of Latin-1 is what commerce exports use.
    if name in ("latin-1", "iso8859-1", "iso8859-15", "cp1250", "cp1257", "mac-roman"):
        try:
            sample.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            return name
    return name


def open_lines(raw: BinaryIO, encoding: str, name: str) -> tuple[Iterator[str], str]:
    """Iterate decoded lines (line endings kept, as csv expects) and return
    the encoding used. Raises PermanentSourceError for binary data or bytes
    that do not decode, naming the byte offset and line."""
    sample = raw.read(SAMPLE_BYTES)
    nul = _looks_binary(sample)
    if nul >= 0:
        raise PermanentSourceError(f"{name}: binary data, not text (NUL byte at byte offset {nul})")
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise PermanentSourceError(f"unknown text encoding {encoding!r}") from None
    used = encoding or detect_encoding(sample)
    if sample.startswith(codecs.BOM_UTF8) and codecs.lookup(used).name == "utf-8":
        used = "utf-8-sig"
    stream = io.BufferedReader(_Prefixed(sample, raw), buffer_size=1 << 16)
    if codecs.lookup(used).name.startswith("utf-16") or codecs.lookup(used).name.startswith(
        "utf-32"
    ):
        text = io.TextIOWrapper(stream, encoding=used, newline="")
        return iter(text), used
    return _decode_lines(stream, used, name), used


def _decode_lines(stream: BinaryIO, encoding: str, name: str) -> Iterator[str]:
    offset = 0
    line_no = 0
    first = True
    for line in stream:
        line_no += 1
        try:
            text = line.decode(encoding)
        except UnicodeDecodeError as exc:
            bad = line[exc.start : exc.start + 1].hex()
            raise PermanentSourceError(
                f"{name}: cannot decode byte 0x{bad} at byte offset {offset + exc.start} "
                f"(line {line_no}) as {encoding}; set format.encoding (e.g. cp1252)"
            ) from None
        if first:
            first = False
            if text.startswith("\ufeff"):
                text = text[1:]
        offset += len(line)
        yield text
