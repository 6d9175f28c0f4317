"""Deterministic, keyed masking of a run's evidence: the sample rows saved
with it, its rejected rows and its error messages.

Masked: columns whose name says email, phone, person or company name, or
address (street, city, zip/postal code...); the source columns mapped to the
entity schema's personal fields; columns the profile lists in
``retention.masked_fields``; and, in every column, any text that looks like
an email address or a phone number. ``profile_masker`` builds the one masker
of a profile, ``mask_rejected_rows`` and ``mask_message`` apply it to
rejected rows and messages (the runner before they leave it, the registry
again when it stores them). Masking is idempotent: a mask is never masked
again.

Each mask keeps a small hint of shape plus a tag: eight letters derived from
HMAC-SHA256 of the normalised value under a key the operator holds (e.g.
``FERRY_MASK_KEY``). The same value masks the same way under one key, so an
operator can correlate rows and runs; without the key, the tag cannot be
checked against a dictionary of likely values. Tags use letters only, so a
mask never contains a run of digits that could pass for a phone number.

=========  ==========================  =================================
kind       example input               masked
=========  ==========================  =================================
email      jane.doe@example.com        j***@e***.com~kqzvtmwa
phone      +33 6 12 34 56 78           +*********78~bqxrnlfe
name       Jane Doe                    J***~hwmfqcaz
other      12 rue de la Paix           ***~tdnvxoyr
=========  ==========================  =================================
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ferry.v1 import profile_pb2

from ferry_domain.engine.entities import get_entity
from ferry_domain.engine.results import RejectedRow, RowError

TAG_LETTERS = 8
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"

# Parts bounded as in RFC 5321 (local part 64, label 63): unbounded, each
# start in a long run without "@" would scan to its end (quadratic time).
EMAIL_RE = re.compile(r"[\w.%+'-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
# A run of digits written the way phone numbers are. Not glued to a digit or
# to a code such as "ABC-123-4567"; not the start of a decimal "1.234,56".
_PHONE_CANDIDATE = re.compile(
    r"(?<![\d+])(?<![A-Za-z0-9][-_/])(?:\+|00(?=[1-9]))?\(?\d[\d \t().\-/]{4,}\d"
    r"(?![\w]|[.,]\d)"
)
_SPACES = re.compile(r"\s+")
MAX_PHONE_DIGITS = 15
_DATE_LIKE = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)|^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}(?!\d)"
)
_DECIMAL_LIKE = re.compile(r"^\d+[.,]\d{1,2}$")
_IPV4_LIKE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_THOUSANDS_LIKE = re.compile(r"^\d{1,3}(?:[ .,'\u00a0]\d{3})+$")
# What every mask ends with: "~" and the tag's letters (after a "*" hint).
_MASKED = re.compile(r"\*[^~]*~[a-z]{" + str(TAG_LETTERS) + "}$")

EMAIL_WORDS = {"email", "mail", "emailaddress"}
PHONE_WORDS = {
    "phone", "telephone", "tel", "mobile", "cell", "cellphone", "fax", "msisdn", "gsm",
    "phonenumber", "mobilephone", "telefon", "telefono", "telephonenumber",
}
ADDRESS_WORDS = {
    "address", "addr", "street", "address1", "address2", "address3", "streetaddress",
    "city", "town", "zip", "zipcode", "postcode", "postal", "postalcode",
}
NAME_JOINED = {
    "name", "firstname", "lastname", "fullname", "givenname", "familyname", "middlename",
    "surname", "nickname", "username", "displayname", "contactname", "customername",
    "company", "companyname", "contact",
}
NAME_QUALIFIERS = {
    "first", "last", "full", "given", "family", "middle", "sur", "nick", "user", "display",
    "contact", "customer", "billing", "shipping", "recipient", "account", "holder", "card",
    "company", "legal", "person", "owner", "client",
}
# Columns about an email or phone rather than holding one ("Accepts Email
# Marketing", "phone_verified"): not masked by name (values still are).
FLAG_WORDS = {
    "accepts", "accept", "consent", "marketing", "opt", "optin", "optout", "verified",
    "subscribed", "subscription", "status", "count", "type", "format", "template",
    "enabled", "allowed", "bounced",
}


def column_words(column: str) -> list[str]:
    """``billingFirstName`` / ``Billing First-Name`` -> ``["billing", "first", "name"]``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", column)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def column_kind(column: str) -> str | None:
    """``email``, ``phone``, ``name``, ``address`` or None, from the name alone."""
    words = column_words(column)
    if not words:
        return None
    joined = "".join(words)
    if FLAG_WORDS.intersection(words):
        return None
    if EMAIL_WORDS.intersection(words) or joined in {"email", "emailaddress"}:
        return "email"
    if PHONE_WORDS.intersection(words) or joined in PHONE_WORDS:
        return "phone"
    if ADDRESS_WORDS.intersection(words):
        return "address"
    if joined in NAME_JOINED or "surname" in words:
        return "name"
    if "name" in words and set(words) - {"name"} <= NAME_QUALIFIERS:
        return "name"
    return None


def _normal(column: str) -> str:
    return "".join(column_words(column))


def looks_like_phone(text: str) -> bool:
    """Whether a candidate run of digits reads as a phone number: 7 to 15
    digits, and an international prefix (``+``/``00``), phone-style
    separators, or a national ``0`` plus nine digits. Dates, decimals, IPv4
    addresses and numbers grouped in thousands are not phones."""
    body = text.strip()
    digits = sum(c.isdigit() for c in body)
    if not 7 <= digits <= MAX_PHONE_DIGITS:
        return False
    international = body.startswith("+") or body.startswith("00")
    if _DATE_LIKE.search(body) or _DECIMAL_LIKE.match(body) or _IPV4_LIKE.match(body):
        return False
    if not international and _THOUSANDS_LIKE.match(body):
        return False
    if international or any(c in body for c in " \t().-/"):
        return True
    return body.isdigit() and len(body) == 10 and body.startswith("0")


class Masker:
    """Masks rows deterministically under ``key``.

    ``extra_fields``: further columns to mask whatever their values (the
    profile's ``retention.masked_fields``), matched without regard to case,
    spaces or punctuation.
    """

    def __init__(self, key: bytes, extra_fields: Iterable[str] = ()) -> None:
        if not key:
            raise ValueError("a masking key is required (e.g. FERRY_MASK_KEY)")
        self._key = bytes(key)
        self._extra = {_normal(f) for f in extra_fields if f}
        self._kinds: dict[str, str | None] = {}

    # -- tags and masks -------------------------------------------------

    def tag(self, kind: str, normalised: str) -> str:
        """Eight letters from HMAC-SHA256(key, kind NUL value)."""
        digest = hmac.new(self._key, f"{kind}\0{normalised}".encode(), hashlib.sha256).digest()
        number = int.from_bytes(digest[:8], "big")
        letters = []
        for _ in range(TAG_LETTERS):
            number, index = divmod(number, len(_ALPHABET))
            letters.append(_ALPHABET[index])
        return "".join(letters)

    def mask_email(self, email: str) -> str:
        value = email.strip()
        local, _, domain = value.lower().rpartition("@")
        labels = domain.split(".")
        tld = labels[-1] if len(labels) > 1 and labels[-1].isalpha() else ""
        hint = f"{local[:1]}***@{domain[:1]}***" + (f".{tld}" if tld else "")
        return f"{hint}~{self.tag('email', value.lower())}"

    def mask_phone(self, phone: str) -> str:
        digits = "".join(c for c in phone if c.isdigit())
        international = phone.strip().startswith("+") or digits.startswith("00")
        if digits.startswith("00"):
            digits = digits[2:]
        if not digits:
            return self.mask_other(phone)
        shown = digits[-2:] if len(digits) > 4 else ""
        hint = ("+" if international else "") + "*" * (len(digits) - len(shown)) + shown
        return f"{hint}~{self.tag('phone', digits)}"

    def mask_name(self, name: str) -> str:
        value = " ".join(name.split())
        initial = value[:1] if value[:1].isalpha() else ""
        return f"{initial}***~{self.tag('name', value.casefold())}"

    def mask_other(self, value: str) -> str:
        return f"***~{self.tag('value', value.strip())}"

    def mask_text(self, text: str) -> str:
        """Free text with every email address and phone number masked."""
        masked = EMAIL_RE.sub(lambda m: self.mask_email(m.group(0)), text)
        return self._mask_phones(masked)

    def _mask_phones(self, text: str) -> str:
        return _PHONE_CANDIDATE.sub(self._phone_or_rescan, text)

    def _phone_or_rescan(self, match: re.Match[str]) -> str:
        found = match.group(0)
        if looks_like_phone(found):
            return self.mask_phone(found)
        # Not one phone; it may still end with one ("on 28/11/2026 06 12 34
        # 56 78", "1234.50 0612345678"): the first word boundary whose rest
        # holds a phone wins. A rest with more digits than a phone has cannot
        # be one, so only the last few words are scanned: linear in the run.
        digits_left = sum(c.isdigit() for c in found)
        start = 0
        for space in _SPACES.finditer(found):
            digits_left -= sum(c.isdigit() for c in found[start:space.start()])
            start = space.end()
            if digits_left > MAX_PHONE_DIGITS:
                continue
            rest = found[start:]
            masked = _PHONE_CANDIDATE.sub(self._phone_only, rest)
            if masked != rest:
                return found[:start] + masked
        return found

    def _phone_only(self, match: re.Match[str]) -> str:
        found = match.group(0)
        return self.mask_phone(found) if looks_like_phone(found) else found

    # -- rows -----------------------------------------------------------

    def kind_of(self, column: str) -> str | None:
        if column not in self._kinds:
            kind = column_kind(column)
            if kind is None and _normal(column) in self._extra:
                kind = "other"
            self._kinds[column] = kind
        return self._kinds[column]

    def mask_value(self, column: str, value: Any) -> Any:
        if value is None or value == "" or is_masked(value):
            return value
        if isinstance(value, Mapping):
            return self.mask_row(value)
        if isinstance(value, list | tuple):
            return [self.mask_value(column, item) for item in value]
        kind = self.kind_of(column)
        if kind is None:
            return self.mask_text(value) if isinstance(value, str) else value
        text = str(value)
        if kind == "email":
            if EMAIL_RE.fullmatch(text.strip()):
                return self.mask_email(text)
            return self.mask_other(text)
        if kind == "phone":
            return self.mask_phone(text)
        if kind == "name":
            return self.mask_other(text) if EMAIL_RE.search(text) else self.mask_name(text)
        return self.mask_other(text)

    def mask_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``row`` with sensitive values masked; keys and order kept."""
        return {column: self.mask_value(str(column), value) for column, value in row.items()}

    def mask_rows(self, rows: Iterable[Mapping[str, Any]], limit: int | None = None
                  ) -> list[dict[str, Any]]:
        """The first ``limit`` rows (all when None), masked."""
        out: list[dict[str, Any]] = []
        for row in rows:
            if limit is not None and len(out) >= limit:
                break
            out.append(self.mask_row(row))
        return out


def is_masked(value: Any) -> bool:
    """Whether ``value`` is already a mask (so masking again keeps it)."""
    return isinstance(value, str) and _MASKED.search(value) is not None


def personal_columns(profile: profile_pb2.Profile) -> list[str]:
    """The columns masked whatever their values: ``retention.masked_fields``,
    and the entity schema's personal fields with the source columns the
    mapping reads them from."""
    columns = list(profile.retention.masked_fields)
    try:
        personal = set(get_entity(profile.entity_type).personal)
    except KeyError:
        personal = set()
    for f in profile.mapping.fields:
        if f.target in personal:
            columns.extend([f.target, f.source, *f.sources])
    return [c for c in columns if c]


def profile_masker(key: bytes, profile: profile_pb2.Profile | None) -> Masker:
    """The one masker of a profile's evidence (samples, rejected rows, messages)."""
    return Masker(key, personal_columns(profile) if profile is not None else ())


def mask_message(masker: Masker, message: str, raw: Mapping[str, Any] | None = None,
                 masked: Mapping[str, Any] | None = None) -> str:
    """``message`` with every value of ``raw`` that masks differently (in
    ``masked``, the same row masked) replaced by its mask, then every email
    or phone masked: the field name and the reason stay readable."""
    if not message:
        return message
    swaps = {}
    for column, value in (raw or {}).items():
        shown = (masked or {}).get(column)
        text = "" if value is None else str(value)
        if len(text.strip()) >= 2 and shown is not None and str(shown) != text:
            swaps[text] = str(shown)
    for text in sorted(swaps, key=len, reverse=True):
        message = message.replace(text, swaps[text])
    return masker.mask_text(message)


def mask_rejected_rows(masker: Masker, rows: Sequence[RejectedRow]) -> list[RejectedRow]:
    """Rejected rows with their values and messages masked (row, outcome and
    field kept)."""
    out = []
    for row in rows:
        values = masker.mask_row(row.values)
        out.append(replace(row, values=values,
                           message=mask_message(masker, row.message, row.values, values)))
    return out


def mask_evidence(masker: Masker, rejected_rows: Sequence[RejectedRow],
                  first_error: RowError | None, texts: Sequence[str]
                  ) -> tuple[list[RejectedRow], RowError | None, list[str]]:
    """A run's evidence masked as one: its rejected rows, its first error (whose
    raw values are those of its rejected row, when kept) and its other texts
    (skip reason, error message, warnings), in the order given."""
    rows = mask_rejected_rows(masker, rejected_rows)
    if first_error is not None:
        raw = next((r.values for r in rejected_rows
                    if r.row == first_error.row and r.message == first_error.message), None)
        shown = masker.mask_row(raw) if raw is not None else None
        first_error = replace(first_error,
                              message=mask_message(masker, first_error.message, raw, shown))
    return rows, first_error, [mask_message(masker, text) for text in texts]
