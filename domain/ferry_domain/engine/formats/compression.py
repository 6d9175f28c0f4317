"""Opening a possibly compressed file as a byte stream (gzip, zip)."""

from __future__ import annotations

import fnmatch
import gzip
import io
import zipfile
import zlib
from typing import BinaryIO

from ferry.v1 import profile_pb2

from ferry_domain.engine import limits as source_limits
from ferry_domain.engine.errors import PermanentSourceError

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"


def detect(head: bytes, name: str) -> int:
    if head.startswith(_GZIP_MAGIC) or name.lower().endswith(".gz"):
        return profile_pb2.COMPRESSION_GZIP
    if head.startswith(_ZIP_MAGIC) and not name.lower().endswith(".xlsx"):
        return profile_pb2.COMPRESSION_ZIP
    return profile_pb2.COMPRESSION_NONE


class _GzipStream(io.RawIOBase):
    """gzip reader that turns truncation and corruption into clear errors."""

    def __init__(self, raw: BinaryIO, name: str) -> None:
        self._gz = gzip.GzipFile(fileobj=raw, mode="rb")
        self._raw = raw
        self._start = raw.tell()
        self._name = name
        self._offset = 0
        self._limits = source_limits.current()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        try:
            n = self._gz.readinto(buffer)
        except EOFError:
            raise PermanentSourceError(
                f"{self._name}: gzip data is truncated after {self._offset} uncompressed bytes"
            ) from None
        except (OSError, zipfile.BadZipFile, zlib.error) as exc:
            raise PermanentSourceError(
                f"{self._name}: corrupt gzip data after {self._offset} uncompressed bytes ({exc})"
            ) from None
        self._offset += n
        why = self._limits.inflated_too_much(self._offset, self._raw.tell() - self._start)
        if why:
            raise PermanentSourceError(f"{self._name}: gzip: {why}")
        return n

    def close(self) -> None:
        self._gz.close()
        super().close()


class _LimitedMember(io.RawIOBase):
    """A zip member that stops at the decompression limits (size and ratio)."""

    def __init__(self, member: BinaryIO, name: str, compressed: int) -> None:
        self._member = member
        self._name = name
        self._compressed = compressed
        self._offset = 0
        self._limits = source_limits.current()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # an XLSX inside a zip needs seeking
        return self._member.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        position = self._member.seek(offset, whence)
        self._offset = max(self._offset, position)
        return position

    def tell(self) -> int:
        return self._member.tell()

    def readinto(self, buffer) -> int:  # type: ignore[override]
        try:
            data = self._member.read(len(buffer))
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise PermanentSourceError(
                f"{self._name}: corrupt zip data after {self._offset} uncompressed bytes ({exc})"
            ) from None
        n = len(data)
        buffer[:n] = data
        self._offset += n
        why = self._limits.inflated_too_much(self._offset, self._compressed)
        if why:
            raise PermanentSourceError(f"{self._name}: zip: {why}")
        return n

    def close(self) -> None:
        self._member.close()
        super().close()


def _check_declared(info: zipfile.ZipInfo, name: str) -> None:
    """Refuse a member whose header already declares too much inflation."""
    why = source_limits.current().inflated_too_much(info.file_size, info.compress_size)
    if why:
        raise PermanentSourceError(f"{name}: zip member {info.filename!r} declares {why}")


def open_binary(
    raw: BinaryIO, name: str, compression: int, member: str = ""
) -> tuple[BinaryIO, str, list]:
    """Return (stream, inner name, closers). ``raw`` must be seekable for zip."""
    if compression in (profile_pb2.COMPRESSION_UNSPECIFIED, profile_pb2.COMPRESSION_AUTO):
        head = raw.read(4)
        raw.seek(0)
        compression = detect(head, name)
    if compression == profile_pb2.COMPRESSION_GZIP:
        inner = name[:-3] if name.lower().endswith(".gz") else name
        stream = io.BufferedReader(_GzipStream(raw, name), buffer_size=1 << 16)
        return stream, inner, [stream]
    if compression == profile_pb2.COMPRESSION_ZIP:
        try:
            archive = zipfile.ZipFile(raw)
        except zipfile.BadZipFile as exc:
            raise PermanentSourceError(f"{name}: not a readable zip archive ({exc})") from None
        names = [n for n in archive.namelist() if not n.endswith("/")]
        picked = [n for n in names if fnmatch.fnmatch(n, member)] if member else names
        if len(picked) != 1:
            archive.close()
            what = f"matching {member!r}" if member else "in total"
            raise PermanentSourceError(
                f"{name}: zip has {len(picked)} members {what}; name exactly one with format.member"
            )
        try:
            info = archive.getinfo(picked[0])
            _check_declared(info, name)
            member_stream = archive.open(info)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
            archive.close()
            raise PermanentSourceError(f"{name}: zip member {picked[0]!r}: {exc}") from None
        except BaseException:
            archive.close()
            raise
        stream = io.BufferedReader(_LimitedMember(member_stream, name, info.compress_size),
                                   buffer_size=1 << 16)
        return stream, picked[0], [stream, archive]
    return raw, name, []
