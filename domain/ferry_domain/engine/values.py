"""Parsing and canonical forms of typed values (decimal, integer, boolean,
dates, lists, e-mail). Pure functions; raise RowValueError on bad input."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ferry_domain.engine.errors import RowValueError

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "on", "x", "enabled", "active"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "off", "disabled", "inactive"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NUM_SPACES = str.maketrans("", "", " \u00a0\u202f'")


def is_empty(value: Any) -> bool:
    """No value: None, empty text or an empty list (a field's default applies)."""
    return value is None or value == "" or value == []


def _show(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def parse_decimal(value: Any, decimal_comma: bool = False, thousands: str = "") -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise RowValueError(f"{_show(value)} is not a number")
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = str(value).strip().translate(_NUM_SPACES)
    if thousands:
        text = text.replace(thousands, "")
    if decimal_comma:
        text = text.replace(".", "").replace(",", ".") if not thousands else text.replace(",", ".")
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise RowValueError(f"{_show(value)} is not a decimal number") from None
    if not result.is_finite():
        raise RowValueError(f"{_show(value)} is not a finite number")
    return result


def parse_int(value: Any, decimal_comma: bool = False, thousands: str = "") -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit() or (text[:1] in "+-" and text[1:].isdigit()):
            return int(text)
    number = parse_decimal(value, decimal_comma, thousands)
    if number != number.to_integral_value():
        raise RowValueError(f"{_show(value)} is not a whole number")
    return int(number)


def parse_bool(value: Any, true_words=TRUE_WORDS, false_words=FALSE_WORDS) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in true_words:
        return True
    if word in false_words:
        return False
    raise RowValueError(f"{_show(value)} is not a yes/no value")


def parse_date(value: Any, formats: list[str] | None = None) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in formats or []:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    if not formats:
        try:
            return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
        except ValueError:
            pass
    expected = " or ".join(formats) if formats else "YYYY-MM-DD"
    raise RowValueError(f"{_show(value)} is not a date ({expected})")


def parse_datetime(value: Any, formats: list[str] | None = None) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value).strip()
    for fmt in formats or []:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    if not formats:
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
    raise RowValueError(f"{_show(value)} is not a date and time")


def parse_email(value: Any) -> str:
    text = str(value).strip().lower()
    if not _EMAIL.match(text):
        raise RowValueError(f"{_show(value)} is not an e-mail address")
    return text


def to_list(value: Any, separator: str = ",") -> list:
    if isinstance(value, list | tuple):
        return _clean_list(value)
    text = str(value)
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return parsed
        except ValueError:
            pass
    return [p.strip() for p in text.split(separator) if p.strip()]


def _clean_list(items) -> list:
    """Flatten one level, drop empty items and repeats, keep the order."""
    out: list = []
    for item in items:
        for x in item if isinstance(item, list | tuple) else (item,):
            if x is None or (isinstance(x, str) and not x.strip()):
                continue
            if x not in out:
                out.append(x)
    return out


def coerce(type_: str, value: Any) -> Any:
    """Turn a mapped value into the field's type; ``None`` stays ``None``."""
    if value is None:
        return None
    if type_ == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)
    if type_ == "integer":
        return parse_int(value)
    if type_ == "decimal":
        return parse_decimal(value)
    if type_ == "boolean":
        return parse_bool(value)
    if type_ == "date":
        return parse_date(value)
    if type_ == "datetime":
        return parse_datetime(value)
    if type_ == "list":
        return to_list(value)
    if type_ == "email":
        return parse_email(value)
    raise RowValueError(f"unknown type {type_}")


def canonical(value: Any) -> str:
    """Stable text of a typed value, for row hashes and text storage."""
    if value is None:
        return "\x00"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
