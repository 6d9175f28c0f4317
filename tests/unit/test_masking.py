"""Masked samples: no raw email or phone survives, masks are deterministic
under one key, and ordinary columns are left alone."""

from __future__ import annotations

import random
import re

import pytest
from ferry.v1 import profile_pb2
from ferry_domain.engine.results import RejectedRow, RowError
from ferry_domain.masking import (
    Masker,
    column_kind,
    looks_like_phone,
    mask_evidence,
    personal_columns,
    profile_masker,
)

KEY = b"test-mask-key-0123456789abcdef"
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Seven or more digits, possibly separated the way phones are written.
PHONE_RE = re.compile(r"\+?\(?\d(?:[\s().\-/]*\d){6,}")

FIRST = ["jane", "John", "marie-claire", "o'brien", "Zoë", "li", "ahmed", "Sven"]
DOMAINS = ["example.com", "mail.shop.co.uk", "gmail.com", "exämple.de", "x.io"]


def random_email(rng: random.Random) -> str:
    local = rng.choice(FIRST) + rng.choice([".", "_", "+tag", ""]) + str(rng.randint(0, 999))
    return f"{local}@{rng.choice(DOMAINS)}"


def random_phone(rng: random.Random) -> str:
    d = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))  # noqa: E731
    return rng.choice([
        f"+33 {rng.randint(1, 9)} {d(2)} {d(2)} {d(2)} {d(2)}",
        f"0{rng.randint(1, 9)}{d(8)}",
        f"0{rng.randint(1, 9)} {d(2)} {d(2)} {d(2)} {d(2)}",
        f"({d(3)}) {d(3)}-{d(4)}",
        f"{d(3)}-{d(3)}-{d(4)}",
        f"+1-{d(3)}-{d(3)}-{d(4)}",
        f"+44{d(10)}",
        f"0044 {d(4)} {d(6)}",
        f"+49 (0) {d(3)} {d(7)}",
        f"{d(3)}.{d(3)}.{d(4)}",
    ])


def generated_rows(count: int, seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        email, phone = random_email(rng), random_phone(rng)
        rows.append({
            "sku": f"SKU-{i:05d}",
            "Email": email,
            "Phone": phone,
            "notes": f"call {random_phone(rng)} or write to {random_email(rng)} please",
            "comment": random_phone(rng),
            "contact": f"{rng.choice(FIRST)} <{random_email(rng)}>",
        })
    return rows


def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def test_no_raw_email_or_phone_survives_in_any_column() -> None:
    rows = generated_rows(500)
    masked = Masker(KEY).mask_rows(rows)
    for raw, out in zip(rows, masked, strict=True):
        text = " | ".join(str(v) for v in out.values() if v != raw["sku"])
        assert not EMAIL_RE.search(text), text
        assert not PHONE_RE.search(text), text
        for column in ("Email", "Phone", "notes", "comment", "contact"):
            for found in EMAIL_RE.findall(raw[column]):
                assert found not in text
            for found in PHONE_RE.findall(raw[column]):
                assert digits(found)[:-2] not in digits(text), (found, text)


def test_same_value_masks_the_same_way_and_different_values_differently() -> None:
    masker = Masker(KEY)
    a = masker.mask_row({"email": "Jane.Doe@Example.com", "phone": "+33 6 12 34 56 78"})
    b = masker.mask_row({"email": "jane.doe@example.com", "phone": "+33612345678"})
    c = masker.mask_row({"email": "john.doe@example.com", "phone": "+33612345679"})
    assert a == b
    assert a["email"] != c["email"] and a["phone"] != c["phone"]
    assert a["email"].startswith("j***@e***.com~")
    assert a["phone"].startswith("+*********78~")


def test_another_key_gives_other_tags() -> None:
    row = {"email": "jane.doe@example.com"}
    assert Masker(KEY).mask_row(row) != Masker(b"another-key").mask_row(row)


def test_tags_hold_no_digits() -> None:
    masker = Masker(KEY)
    tags = {masker.mask_value("email", f"user{i}@example.com").split("~")[1] for i in range(300)}
    assert len(tags) == 300
    assert all(tag.isalpha() and len(tag) == 8 for tag in tags)


def test_names_addresses_and_extra_fields_are_masked_other_columns_kept() -> None:
    masker = Masker(KEY, extra_fields=["Loyalty Card"])
    row = {
        "First Name": "Jane", "last_name": "Doe", "customerName": "Jane Doe",
        "Default Address Address1": "12 rue de la Paix", "City": "Paris", "zip": "75002",
        "loyalty_card": "LC-99812", "sku": "ABC-123", "price": 12.5, "qty": 3,
        "title": "Blue Shirt", "updated_at": "2026-11-28 14:58:08", "ean": "4006381333931",
        "Accepts Email Marketing": "yes", "company": "Acme SARL",
    }
    out = masker.mask_row(row)
    assert list(out) == list(row)
    for column in ("First Name", "last_name", "customerName", "Default Address Address1",
                   "City", "zip", "loyalty_card", "company"):
        assert out[column] != row[column]
        assert "~" in out[column]
        assert row[column] not in out[column]
    assert out["First Name"].startswith("J***~")
    for column in ("sku", "price", "qty", "title", "updated_at", "ean",
                   "Accepts Email Marketing"):
        assert out[column] == row[column]


def test_empty_values_stay_empty_and_nested_values_are_masked() -> None:
    out = Masker(KEY).mask_row({"email": "", "phone": None,
                                "meta": {"email": "a@b.co", "tags": ["call 06 12 34 56 78"]}})
    assert out["email"] == "" and out["phone"] is None
    assert not EMAIL_RE.search(str(out["meta"]))
    assert not PHONE_RE.search(str(out["meta"]))


@pytest.mark.parametrize(("column", "kind"), [
    ("email", "email"), ("E-Mail", "email"), ("customer_email", "email"),
    ("phone", "phone"), ("Tel", "phone"), ("mobileNumber", "phone"),
    ("first_name", "name"), ("LastName", "name"), ("Name", "name"), ("surname", "name"),
    ("street", "address"), ("postal_code", "address"), ("ZIP", "address"),
    ("sku", None), ("product_name", None), ("Accepts Email Marketing", None),
    ("price", None), ("tags", None),
])
def test_columns_are_recognised_by_name(column: str, kind: str | None) -> None:
    assert column_kind(column) == kind


@pytest.mark.parametrize(("text", "phone"), [
    ("+33 6 12 34 56 78", True), ("0612345678", True), ("(555) 123-4567", True),
    ("2026-11-28", False), ("4006381333931", False), ("1234.50", False), ("12345", False),
])
def test_phone_shapes(text: str, phone: bool) -> None:
    assert looks_like_phone(text) is phone


@pytest.mark.parametrize("text", [
    "SKU-00012345", "ABC-123-4567", "2026-11-28T14:58:08Z", "2026-11-28 14:58:08",
    "28/11/2026", "1.234.567,89", "1 234 567", "EAN 4006381333931", "192.168.0.1",
    "order #100234567", "price 1234.50",
])
def test_codes_dates_and_amounts_in_free_text_are_left_alone(text: str) -> None:
    assert Masker(KEY).mask_text(text) == text


@pytest.mark.parametrize("text", [
    "on 28/11/2026 06 12 34 56 78 ok", "price 1234.50 0612345678", "Tel.0612345678",
    "tel:+33612345678", "2026-11-28 14:58:08 +33 6 12 34 56 78", "ref 0033612345678",
])
def test_phones_next_to_dates_amounts_or_labels_are_still_masked(text: str) -> None:
    masked = Masker(KEY).mask_text(text)
    assert not PHONE_RE.search(masked.replace("2026-11-28 14:58:08", "").replace(
        "28/11/2026", "").replace("1234.50", "")), masked
    assert "~" in masked


def test_a_key_is_required() -> None:
    with pytest.raises(ValueError):
        Masker(b"")


def test_evidence_masking_keeps_field_and_reason_and_is_idempotent():
    profile = profile_pb2.Profile(entity_type="customers", mapping=profile_pb2.Mapping(
        fields=[profile_pb2.FieldMapping(target="last_name", source="Col B")]),
        retention=profile_pb2.RetentionPolicy(masked_fields=["Notes"]))
    assert personal_columns(profile) == ["Notes", "last_name", "Col B"]
    masker = profile_masker(b"k" * 16, profile)
    row = RejectedRow(4, "error", "last_name", "'Hopper' is too long",
                      {"Col B": "Hopper", "Notes": "VIP", "Sku": "A1"})
    rows, first, texts = mask_evidence(masker, [row], RowError(4, "last_name", row.message),
                                       ["write to jane@example.com"])
    assert rows[0].values["Sku"] == "A1" and "Hopper" not in str(rows[0])
    assert rows[0].values["Notes"] != "VIP"
    assert first is not None and first.message == rows[0].message
    assert first.message.endswith("' is too long") and first.field == "last_name"
    assert "jane@example.com" not in texts[0] and texts[0].startswith("write to ")
    again, _, _ = mask_evidence(masker, rows, None, [])
    assert again == rows


@pytest.mark.parametrize("text", ["1 " * 20000, "1-" * 20000, "a" * 50000 + "@x.io",
                                  "a." * 20000, "on 1 " * 5000 + "06 12 34 56 78"])
def test_long_hostile_text_is_masked_without_deep_recursion(text: str) -> None:
    """A rejected row can hold any text; masking it must not fail the run
    (the rescan for a phone at the end of a run of digits was recursive)."""
    masked = Masker(b"k" * 32).mask_text(text)
    assert "06 12 34 56 78" not in masked
    assert "@x.io" not in masked or text.count("@") == 0
