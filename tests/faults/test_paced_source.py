"""The paced source the fault tests rely on: a throttled read keeps to its
rate and waits at its hold, and ``open()`` lets the rest through at once."""

from __future__ import annotations

import threading
import time
from itertools import islice
from pathlib import Path

from tests.integration.runner import stack
from tests.support.paced_source import PacedSource
from tests.support.plugins.ferry_paced_csv import PacedCsv

ROWS = 5_000


def test_a_throttled_read_keeps_its_rate_and_hold_until_opened(tmp_path: Path) -> None:
    csv_path = stack.write_products_csv(tmp_path / "products.csv", ROWS)
    paced = PacedSource(tmp_path, rate=2_000, hold_at=1_000)
    rows = PacedCsv(str(csv_path), {"pace": str(paced.control)}, None).read()

    started = time.monotonic()
    first = list(islice(rows, 1_000))
    assert time.monotonic() - started >= 0.5  # 1,000 rows at 2,000 a second
    assert first[0] == {"sku": "SKU-0000001", "name": "Product 1", "price": "1.01",
                        "quantity": "1"}

    after_hold: list[dict[str, str]] = []
    reader = threading.Thread(target=lambda: after_hold.append(next(rows)), daemon=True)
    reader.start()
    reader.join(1.0)
    assert reader.is_alive(), "the read went past its hold"

    paced.open()
    reader.join(5.0)
    assert after_hold == [{"sku": "SKU-0001001", "name": "Product 1001", "price": "1.01",
                           "quantity": "1"}]
    started = time.monotonic()
    rest = list(rows)
    assert len(rest) == ROWS - 1_001
    assert time.monotonic() - started < 1.0  # open: no pacing
    assert rest[-1]["sku"] == f"SKU-{ROWS:07d}"


def test_an_open_read_never_waits(tmp_path: Path) -> None:
    csv_path = stack.write_products_csv(tmp_path / "products.csv", ROWS)
    paced = PacedSource(tmp_path, rate=1, hold_at=100)
    paced.open()
    started = time.monotonic()
    rows = list(PacedCsv(str(csv_path), {"pace": str(paced.control)}, None).read())
    assert len(rows) == ROWS
    assert time.monotonic() - started < 1.0
