"""A sample saved from a real customer file holds no raw email or phone."""

from __future__ import annotations

import csv
import random
import re
from datetime import UTC, datetime
from pathlib import Path

from ferry_domain.masking import Masker
from ferry_domain.retention import save_sample

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
PHONE_RE = re.compile(r"\+?\(?\d(?:[\s().\-/]*\d){6,}")


def write_customers(path: Path, count: int) -> list[dict[str, str]]:
    rng = random.Random(11)
    rows = []
    for i in range(count):
        phone = rng.choice([f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} "
                            f"{rng.randint(10, 99)} {rng.randint(10, 99)}",
                            f"(555) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}"])
        rows.append({
            "Customer ID": f"C{i:06d}", "First Name": f"Ann{i}", "Last Name": f"Lee{i}",
            "Email": f"ann.lee{i}@example.org", "Phone": phone,
            "Default Address Address1": f"{i} Main Street", "Default Address City": "Lyon",
            "Note": f"prefers mail to ann{i}@corp.example.com, mobile {phone}",
            "Total Spent": f"{rng.randint(1, 999)}.{rng.randint(10, 99)}",
        })
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def test_sample_of_a_customer_file_has_no_raw_email_or_phone(tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    raw = write_customers(source, 200)
    with source.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    path, action = save_sample(rows, tmp_path / "samples", "run-42", Masker(b"audit-key-1"),
                               now=datetime(2026, 11, 28, tzinfo=UTC), limit=100)
    text = path.read_text()
    assert action.to_proto().path == str(path)
    assert not EMAIL_RE.search(text)
    assert not PHONE_RE.search(text)
    with path.open(newline="") as handle:
        saved = list(csv.DictReader(handle))
    assert len(saved) == 100
    assert [r["Customer ID"] for r in saved] == [r["Customer ID"] for r in raw[:100]]
    assert [r["Total Spent"] for r in saved] == [r["Total Spent"] for r in raw[:100]]
    assert all(r["First Name"] != s["First Name"] for r, s in zip(raw, saved, strict=False))
