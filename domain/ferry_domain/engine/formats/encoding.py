"""Text decoding of byte streams: declared encodings, BOM handling and
detection (UTF-8 first, then charset-normalizer, then Windows-1252), with
errors that name the byte offset."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import BinaryIO

from charset_normalizer import from_bytes

from ferry_domain.engine import limits as source_limits
from ferry_domain.engine.errors import PermanentSourceError

SAMPLE_BYTES = 1 << 16
CHUNK = 1 << 16
_NUL = b"\x00"


class CountingReader(io.RawIOBase):
    """Raw stream over ``head`` + ``rest`` that remembers where the last
    chunk it handed out started, so a decoding error can name its byte."""

    def __init__(self, head: bytes, rest: BinaryIO, max_line: int = 0, name: str = "",
                 refuse_nul: bool = False) -> None:
        self._head = head
        self._rest = rest
        self.offset = 0  # bytes handed out so far
        self.last_start = 0
        self.last_len = 0
        # A physical line longer than max_line bytes is refused before the
        # text layer holds it whole (a 100 MB file without a newline).
        self._max_line = max_line
        self._name = name
        self._run = 0  # bytes since the last newline
        # NUL bytes past the detection sample (which is checked up front):
        # no text encoding but UTF-16/32 has them, and PostgreSQL refuses them.
        self._refuse_nul = refuse_nul

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        if size is None or size < 0:
            size = CHUNK
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
        else:
            data = self._rest.read(size)
        self.last_start, self.last_len = self.offset, len(data)
        self.offset += len(data)
        if self._max_line and data:
            self._check_line(data)
        if self._refuse_nul and _NUL in data:
            at = self.last_start + data.index(_NUL)
            raise PermanentSourceError(
                f"{self._name}: binary data, not text (NUL byte at byte offset {at})")
        return data

    def _check_line(self, data: bytes) -> None:
        # "\r" alone ends lines too (old Mac exports).
        ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
        first = min(ends) if ends else -1
        if first < 0:
            self._run += len(data)
        else:
            self._run += first
        if self._run > self._max_line:
            raise PermanentSourceError(
                f"{self._name}: a line is longer than {self._max_line} bytes (at byte offset "
                f"{self.last_start + (first if first >= 0 else len(data))}); "
                "limit FERRY_MAX_FIELD_BYTES x 4")
        if first >= 0:
            self._run = len(data) - max(data.rfind(b"\n"), data.rfind(b"\r")) - 1

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


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


class TextSource:
    """Decoded lines of a byte stream (line endings kept, as csv expects)."""

    def __init__(self, raw: BinaryIO, encoding: str, name: str) -> None:
        sample = raw.read(SAMPLE_BYTES)
        nul = _looks_binary(sample)
        if nul >= 0:
            raise PermanentSourceError(
                f"{name}: binary data, not text (NUL byte at byte offset {nul})"
            )
        if encoding:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise PermanentSourceError(f"unknown text encoding {encoding!r}") from None
        used = encoding or detect_encoding(sample)
        if sample.startswith(codecs.BOM_UTF8) and codecs.lookup(used).name == "utf-8":
            used = "utf-8-sig"
        self.name = name
        self.encoding = used
        wide = codecs.lookup(used).name.startswith(("utf-16", "utf-32"))
        self.counter = CountingReader(sample, raw, source_limits.current().max_line_bytes, name,
                                      refuse_nul=not wide)
        self.text = io.TextIOWrapper(
            self.counter,
            encoding=used,
            newline="",
            errors="strict",  # type: ignore[arg-type]
        )

    def decode_error(self, exc: UnicodeDecodeError, line: int) -> PermanentSourceError:
        carried = max(len(exc.object) - self.counter.last_len, 0)
        offset = self.counter.last_start - carried + exc.start
        bad = bytes(exc.object[exc.start : exc.start + 1]).hex()
        where = f" (after line {line})" if line > 0 else ""
        return PermanentSourceError(
            f"{self.name}: cannot decode byte 0x{bad} at byte offset {offset}{where} "
            f"as {self.encoding}; set format.encoding (e.g. cp1252)"
        )


def open_lines(raw: BinaryIO, encoding: str, name: str) -> tuple[Iterator[str], str]:
    """Decoded lines and the encoding used (for readers other than CSV)."""
    source = TextSource(raw, encoding, name)

    def lines() -> Iterator[str]:
        n = 0
        try:
            for line in source.text:
                n += 1
                yield line
        except UnicodeDecodeError as exc:
            raise source.decode_error(exc, n) from None

    return lines(), source.encoding
