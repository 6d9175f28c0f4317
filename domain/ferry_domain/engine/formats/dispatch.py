"""Choose and open the reader for a byte stream from the profile's Format.

Format names: FormatKind CSV, TSV, JSON, NDJSON, XLSX; XML has no FormatKind,
so it is chosen by ``Source.options["format"] = "xml"`` or by a ``.xml`` /
``.rss`` file name with FORMAT_KIND_UNSPECIFIED. The same option accepts
"csv", "tsv", "json", "ndjson", "xlsx" to override the file name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import BinaryIO

from ferry.v1 import profile_pb2

from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.engine.formats.compression import open_binary
from ferry_domain.engine.formats.csv_reader import read_csv
from ferry_domain.engine.formats.stream import RecordStream
from ferry_domain.engine.formats.xml_reader import read_xml

FORMAT_NAMES = ("csv", "tsv", "json", "ndjson", "xlsx", "xml")
_KIND_NAMES = {
    profile_pb2.FORMAT_KIND_CSV: "csv",
    profile_pb2.FORMAT_KIND_TSV: "tsv",
    profile_pb2.FORMAT_KIND_JSON: "json",
    profile_pb2.FORMAT_KIND_NDJSON: "ndjson",
    profile_pb2.FORMAT_KIND_XLSX: "xlsx",
}
_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".xlsx": "xlsx",
    ".xml": "xml",
    ".rss": "xml",
}


def format_from_name(name: str) -> str:
    lower = name.lower()
    for suffix in (".gz", ".zip"):
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
    for ext, fmt in _EXTENSIONS.items():
        if lower.endswith(ext):
            return fmt
    return ""


def format_name(fmt: profile_pb2.Format, options: Mapping[str, str], name: str) -> str:
    if fmt.kind in _KIND_NAMES:
        return _KIND_NAMES[fmt.kind]
    option = options.get("format", "").strip().lower()
    if option:
        return option
    return format_from_name(name)


def open_records(
    raw: BinaryIO,
    name: str,
    fmt: profile_pb2.Format,
    options: Mapping[str, str],
    content_type: str = "",
) -> RecordStream:
    """``raw`` must be seekable (files, spooled HTTP bodies)."""
    stream, inner, closers = open_binary(raw, name, fmt.compression, fmt.member)
    kind = format_name(fmt, options, inner)
    if not kind and content_type:
        kind = _from_content_type(content_type)
    if not kind:
        for c in closers:
            c.close()
        raise PermanentSourceError(
            f"{name}: cannot tell the format from the name; set source.format.kind "
            "(or source.options.format: xml)"
        )
    header = fmt.header if fmt.HasField("header") else True
    # The JSON and XLSX readers are imported when their format is read, so
    # that a process that reads neither does not load ijson or
    # python-calamine.
    if kind in ("csv", "tsv"):
        records = read_csv(
            stream,
            name,
            delimiter=fmt.delimiter or ("\t" if kind == "tsv" else ""),
            quote_char=fmt.quote_char,
            header=header,
            encoding=fmt.encoding,
        )
    elif kind == "json":
        from ferry_domain.engine.formats.json_reader import read_json

        records = read_json(stream, name, fmt.records_path)
    elif kind == "ndjson":
        from ferry_domain.engine.formats.json_reader import read_ndjson

        records = read_ndjson(stream, name, fmt.encoding)
    elif kind == "xlsx":
        from ferry_domain.engine.formats.xlsx_reader import read_xlsx

        records = read_xlsx(stream, name, fmt.sheet, header)
    elif kind == "xml":
        records = read_xml(stream, name, fmt.records_path)
    else:
        raise PermanentSourceError(f"{name}: unknown format {kind!r}")
    records.closers[:0] = closers
    return records


def _from_content_type(content_type: str) -> str:
    ct = content_type.split(";")[0].strip().lower()
    if ct in ("application/x-ndjson", "application/jsonl", "application/x-jsonlines"):
        return "ndjson"
    if ct.endswith("json"):
        return "json"
    if ct in ("text/csv", "application/csv", "text/plain"):
        return "csv"
    if ct == "text/tab-separated-values":
        return "tsv"
    if ct.endswith("xml"):
        return "xml"
    if "spreadsheetml" in ct:
        return "xlsx"
    return ""
