"""Transforms: named steps applied to a source value, with string args.

Each transform is declared once in ``TRANSFORMS`` with the args it accepts;
``check_transform`` validates a (name, args) pair without running it and
``build_transform`` returns the function the mapper calls per row. Empty
values (``None``) pass through every transform except ``default`` and
``constant``. Transforms on text apply to each element of a list value.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ferry_domain.engine import values as v
from ferry_domain.engine.errors import RowValueError

Fn = Callable[[Any], Any]


@dataclass(frozen=True)
class TransformDef:
    name: str
    doc: str
    args: Mapping[str, str]  # arg name -> description
    required: tuple[str, ...] = ()
    free_args: bool = False  # lookup: any key is a table entry


def _truthy(text: str) -> bool:
    return text.strip().lower() in v.TRUE_WORDS


def _unescape(sep: str) -> str:
    names = {"newline": "\n", "\\n": "\n", "tab": "\t", "\\t": "\t", "space": " ", "pipe": "|"}
    return names.get(sep, sep)


def _each(fn: Callable[[str], Any]) -> Fn:
    def apply(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            return [fn(x) if isinstance(x, str) else x for x in value]
        return fn(value if isinstance(value, str) else str(value))

    return apply


def _empty_to_none(fn: Fn) -> Fn:
    def apply(value: Any) -> Any:
        if value is None or value == "":
            return None
        return fn(value)

    return apply


def _trim(args: Mapping[str, str]) -> Fn:
    return _each(str.strip)


def _lower(args: Mapping[str, str]) -> Fn:
    return _each(str.lower)


def _upper(args: Mapping[str, str]) -> Fn:
    return _each(str.upper)


def _decimal(args: Mapping[str, str]) -> Fn:
    comma = _truthy(args.get("decimal_comma", "false"))
    thousands = args.get("thousands", "")
    return _empty_to_none(
        lambda x: v.parse_decimal(x, comma, thousands) if str(x).strip() else None
    )


def _integer(args: Mapping[str, str]) -> Fn:
    comma = _truthy(args.get("decimal_comma", "false"))
    thousands = args.get("thousands", "")
    return _empty_to_none(lambda x: v.parse_int(x, comma, thousands) if str(x).strip() else None)


def _boolean(args: Mapping[str, str]) -> Fn:
    true_words = v.TRUE_WORDS
    false_words = v.FALSE_WORDS
    if "true" in args:
        true_words = frozenset(w.strip().lower() for w in args["true"].split(",") if w.strip())
    if "false" in args:
        false_words = frozenset(w.strip().lower() for w in args["false"].split(",") if w.strip())
    return _empty_to_none(
        lambda x: None if not str(x).strip() else v.parse_bool(x, true_words, false_words)
    )


def _formats(args: Mapping[str, str]) -> list[str] | None:
    fmt = args.get("format", "")
    return [f for f in fmt.split("|") if f] or None


def _date(args: Mapping[str, str]) -> Fn:
    formats = _formats(args)
    return _empty_to_none(lambda x: v.parse_date(x, formats) if str(x).strip() else None)


def _datetime(args: Mapping[str, str]) -> Fn:
    formats = _formats(args)
    return _empty_to_none(lambda x: v.parse_datetime(x, formats) if str(x).strip() else None)


def _split(args: Mapping[str, str]) -> Fn:
    sep = _unescape(args.get("separator", ","))
    keep_empty = _truthy(args.get("keep_empty", "false"))

    def apply(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            return value
        parts = [p.strip() for p in str(value).split(sep)]
        return parts if keep_empty else [p for p in parts if p]

    return apply


def _join(args: Mapping[str, str]) -> Fn:
    sep = _unescape(args.get("separator", ", "))
    return lambda x: sep.join(str(i) for i in x) if isinstance(x, list) else x


def _first(args: Mapping[str, str]) -> Fn:
    return lambda x: (x[0] if x else None) if isinstance(x, list) else x


def _default(args: Mapping[str, str]) -> Fn:
    value = args["value"]
    return lambda x: value if x is None or x == "" or x == [] else x


def _constant(args: Mapping[str, str]) -> Fn:
    value = args["value"]
    return lambda x: value


def _concat(args: Mapping[str, str]) -> Fn:
    # The mapper hands a list of the source columns' values.
    sep = _unescape(args.get("separator", " "))

    def apply(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        parts = [str(p).strip() for p in value if p is not None and str(p).strip()]
        return sep.join(parts) or None

    return apply


_LOOKUP_RESERVED = ("_default", "_passthrough", "_ignore_case")


def _lookup(args: Mapping[str, str]) -> Fn:
    ignore_case = _truthy(args.get("_ignore_case", "false"))
    table = {
        (k.lower() if ignore_case else k): val
        for k, val in args.items()
        if k not in _LOOKUP_RESERVED
    }
    has_default = "_default" in args
    fallback = args.get("_default")
    passthrough = _truthy(args.get("_passthrough", "false"))

    def one(x: str) -> Any:
        key = x.strip().lower() if ignore_case else x.strip()
        if key in table:
            return table[key]
        if passthrough:
            return x
        if has_default:
            return fallback
        raise RowValueError(f"no lookup entry for {x[:40]!r}")

    return _each(one)


def _replace(args: Mapping[str, str]) -> Fn:
    old, new = args["old"], args.get("new", "")
    return _each(lambda x: x.replace(old, new))


def _regex(args: Mapping[str, str]) -> Fn:
    pattern = re.compile(args["pattern"])
    group = int(args.get("group", "1" if pattern.groups else "0"))

    def one(x: str) -> Any:
        match = pattern.search(x)
        return match.group(group) if match else None

    return _each(one)


_TAG = re.compile(r"<[^>]*>")
_WS = re.compile(r"\s+")


def _strip_html(args: Mapping[str, str]) -> Fn:
    return _each(lambda x: _WS.sub(" ", html.unescape(_TAG.sub(" ", x))).strip())


def _email(args: Mapping[str, str]) -> Fn:
    return _empty_to_none(lambda x: v.parse_email(x) if str(x).strip() else None)


_NUM_ARGS = {
    "decimal_comma": "true when ',' is the decimal separator (1.234,56)",
    "thousands": "thousands separator to drop, e.g. ',' or '.'",
}
_FMT_ARGS = {"format": "strptime format(s), several separated by '|'; empty means ISO 8601"}

TRANSFORMS: dict[str, tuple[TransformDef, Callable[[Mapping[str, str]], Fn]]] = {
    d.name: (d, b)
    for d, b in [
        (TransformDef("trim", "strip surrounding white space", {}), _trim),
        (TransformDef("lower", "lower case", {}), _lower),
        (TransformDef("upper", "upper case", {}), _upper),
        (TransformDef("decimal", "parse a decimal number (.5, 1.234,56)", _NUM_ARGS), _decimal),
        (TransformDef("integer", "parse a whole number", _NUM_ARGS), _integer),
        (
            TransformDef(
                "boolean",
                "parse yes/no words (true/false, yes/no, y/n, 1/0, on/off)",
                {"true": "comma-separated true words", "false": "comma-separated false words"},
            ),
            _boolean,
        ),
        (TransformDef("date", "parse a date", _FMT_ARGS), _date),
        (TransformDef("datetime", "parse a date and time", _FMT_ARGS), _datetime),
        (
            TransformDef(
                "split",
                "split text into a list, dropping empty parts",
                {
                    "separator": "default ','; 'newline', 'tab', 'pipe' or '\\n' allowed",
                    "keep_empty": "keep empty parts",
                },
            ),
            _split,
        ),
        (TransformDef("join", "join a list into text", {"separator": "default ', '"}), _join),
        (TransformDef("first", "first element of a list", {}), _first),
        (TransformDef("default", "value when empty", {"value": "the value"}, ("value",)), _default),
        (
            TransformDef("constant", "always this value", {"value": "the value"}, ("value",)),
            _constant,
        ),
        (
            TransformDef(
                "concat",
                "join the values of `sources`, skipping empty ones",
                {"separator": "default ' '"},
            ),
            _concat,
        ),
        (
            TransformDef(
                "lookup",
                "map a value through a table: every arg is an entry, except _default, "
                "_passthrough and _ignore_case",
                {k: "" for k in _LOOKUP_RESERVED},
                free_args=True,
            ),
            _lookup,
        ),
        (
            TransformDef("replace", "replace text", {"old": "text", "new": "text"}, ("old",)),
            _replace,
        ),
        (
            TransformDef(
                "regex",
                "extract the first match (group 1 if the pattern has a group); empty if none",
                {"pattern": "Python regular expression", "group": "group number"},
                ("pattern",),
            ),
            _regex,
        ),
        (TransformDef("strip_html", "remove HTML tags and entities", {}), _strip_html),
        (TransformDef("email", "normalise and validate an e-mail address", {}), _email),
    ]
}


def check_transform(name: str, args: Mapping[str, str]) -> list[tuple[str, str]]:
    """Problems as (sub-path, description); sub-path is "name" or "args.<key>"."""
    if name not in TRANSFORMS:
        known = ", ".join(sorted(TRANSFORMS))
        return [("name", f"unknown transform {name!r}; known: {known}")]
    spec, _ = TRANSFORMS[name]
    problems: list[tuple[str, str]] = []
    for req in spec.required:
        if req not in args:
            problems.append((f"args.{req}", f"transform {name!r} needs arg {req!r}"))
    if not spec.free_args:
        for key in args:
            if key not in spec.args:
                allowed = ", ".join(spec.args) or "none"
                problems.append((f"args.{key}", f"unknown arg for {name!r}; allowed: {allowed}"))
    for key in ("decimal_comma", "keep_empty", "_passthrough", "_ignore_case"):
        if key in args and key in spec.args:
            word = args[key].strip().lower()
            if word not in v.TRUE_WORDS | v.FALSE_WORDS:
                problems.append((f"args.{key}", "must be true or false"))
    if name == "regex" and "pattern" in args:
        try:
            compiled = re.compile(args["pattern"])
            if "group" in args and not (
                args["group"].isdigit() and int(args["group"]) <= compiled.groups
            ):
                problems.append(("args.group", "must be a group number of the pattern"))
        except re.error as exc:
            problems.append(("args.pattern", f"invalid regular expression: {exc}"))
    if name in ("date", "datetime") and "format" in args:
        for fmt in args["format"].split("|"):
            if "%" not in fmt:
                problems.append(("args.format", f"{fmt!r} is not a strptime format"))
    if name == "lookup" and not [k for k in args if k not in _LOOKUP_RESERVED]:
        problems.append(("args", "lookup needs at least one table entry"))
    return problems


def build_transform(name: str, args: Mapping[str, str]) -> Fn:
    return TRANSFORMS[name][1](dict(args))
