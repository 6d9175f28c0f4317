"""XML/RSS: repeated record elements (e.g. RSS ``channel/item``) streamed
with iterparse. Child elements become columns named with the document's
namespace prefixes (``g:id``); nested elements become dotted names
(``g:shipping.g:price``); repeated children become lists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element, ParseError, iterparse

from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.engine.formats.stream import RecordStream, dict_stream


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return uri, local
    return "", tag


def read_xml(raw: BinaryIO, name: str, records_path: str = "") -> RecordStream:
    return dict_stream(name, _records(raw, name, records_path.strip("/")))


def _records(raw: BinaryIO, name: str, records_path: str) -> Iterator[dict[str, Any]]:
    prefixes: dict[str, str] = {}
    stack: list[Element] = []
    path: list[str] = []
    target: list[str] | None = records_path.split("/") if records_path else None
    count = 0
    events = iterparse(raw, events=("start-ns", "start", "end"))
    try:
        for event, item in events:
            if event == "start-ns":
                prefix, uri = item
                prefixes.setdefault(uri, prefix)
                continue
            if event == "start":
                stack.append(item)
                path.append(_name(item.tag, prefixes))
                if target is None and len(path) == 2:
                    # Default: RSS channel/item, Atom entry, else the root's children.
                    if path[0] == "rss":
                        target = ["channel", "item"]
                    elif path[0] == "feed":
                        target = ["entry"]
                    else:
                        target = [path[1]]
                continue
            # end
            here = path[1:]
            if target is not None and here == target:
                count += 1
                yield _to_record(item, prefixes)
                parent = stack[-2] if len(stack) > 1 else None
                if parent is not None:
                    parent.remove(item)
            stack.pop()
            path.pop()
    except ParseError as exc:
        line, column = exc.position
        raise PermanentSourceError(
            f"{name}: malformed XML at line {line}, column {column} "
            f"(after record {count}): {exc.msg if hasattr(exc, 'msg') else exc}"
        ) from None


def _name(tag: str, prefixes: dict[str, str]) -> str:
    uri, local = _local(tag)
    if not uri:
        return local
    prefix = prefixes.get(uri, "")
    return f"{prefix}:{local}" if prefix else local


def _to_record(elem: Element, prefixes: dict[str, str], base: str = "") -> dict[str, Any]:
    record: dict[str, Any] = {}
    for child in elem:
        key = _name(child.tag, prefixes)
        key = f"{base}.{key}" if base else key
        if len(child):
            for sub_key, sub_value in _to_record(child, prefixes, key).items():
                _put(record, sub_key, sub_value)
        else:
            _put(record, key, (child.text or "").strip() or None)
    return record


def _put(record: dict[str, Any], key: str, value: Any) -> None:
    if key not in record:
        record[key] = value
        return
    existing = record[key]
    if isinstance(existing, list):
        existing.append(value)
    else:
        record[key] = [existing, value]
