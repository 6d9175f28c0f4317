"""XLSX read speed: Ferry's reader (python-calamine) against openpyxl, the old path.

Generates a products workbook once (bench/.data/products_<rows>.xlsx,
gitignored; openpyxl's write-only mode, which writes text as inline strings
where Excel would use its shared-strings table),
then reads it in child processes, each scenario in its own so that the peak
RSS (os.wait4) is that scenario's alone:

  openpyxl read-only: load_workbook(read_only=True, data_only=True) and the
                      cell conversion the engine used with it;
  ferry (calamine):   the engine's reader (formats.dispatch.open_records),
                      with its checks of the zip headers and the sheet's
                      extent before the sheet is loaded whole.

Each child checks that it read every row (and the last SKU). With --repeat N
the fastest of N rounds is kept (memory: the largest). Exits non-zero
unless the engine's reader is at least 5x openpyxl.

Usage: .venv/bin/python bench/xlsx_read.py [--rows 200000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
COLUMNS = ["sku", "name", "description", "price", "quantity", "active", "category", "updated"]
TARGET_RATIO = 5.0


def generate(rows: int) -> Path:
    path = DATA / f"products_{rows}.xlsx"
    if path.exists():
        return path
    from openpyxl import Workbook

    DATA.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(42)
    words = ["cotton", "shirt", "blue", "green", "hoodie", "logo", "watch", "steel", "cap", "belt"]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Products")
    sheet.append(COLUMNS)
    day = datetime(2024, 1, 1)
    for i in range(rows):
        name = " ".join(rnd.choice(words) for _ in range(3)).title()
        sheet.append([
            f"SKU-{i:08d}", name, f"{name}, made to last; size {rnd.choice('SML')}",
            rnd.randint(100, 50_000) / 100, rnd.randint(0, 1000), rnd.choice([True, False]),
            rnd.choice(["Clothing > Tshirts", "Gear > Watches", "Accessories"]),
            day + timedelta(days=i % 365),
        ])
    tmp = path.with_suffix(".part")
    book.save(tmp)
    tmp.rename(path)
    return path


# -- scenarios (run in the child) -----------------------------------------
def read_openpyxl(path: str) -> tuple[int, object]:
    """The engine's former reader: openpyxl read-only, values converted as
    the engine expects them (whole floats as int, others as Decimal)."""
    from decimal import Decimal

    from openpyxl import load_workbook

    def cell(value):
        if isinstance(value, float):
            return int(value) if value.is_integer() else Decimal(repr(value))
        return value

    book = load_workbook(path, read_only=True, data_only=True)
    rows = book["Products"].iter_rows(values_only=True)
    next(rows)
    n, last = 0, None
    for row in rows:
        if all(c is None for c in row):
            continue
        last = [cell(c) for c in row]
        n += 1
    book.close()
    return n, last[0] if last else None


def read_ferry(path: str) -> tuple[int, object]:
    from ferry.v1 import profile_pb2
    from ferry_domain.engine.formats.dispatch import open_records

    n, last = 0, None
    with open(path, "rb") as handle:
        stream = open_records(handle, path, profile_pb2.Format(sheet="Products"), {})
        try:
            for row in stream.rows:
                last = row
                n += 1
        finally:
            stream.close()
    return n, last[0] if last else None


def child(scenario: str, path: str, rows: int) -> None:
    read = {"openpyxl": read_openpyxl, "ferry": read_ferry}[scenario]
    if scenario == "openpyxl":
        import openpyxl  # noqa: F401 - imported before the clock starts
    else:
        import ferry_domain.engine.formats.dispatch  # noqa: F401
        import python_calamine  # noqa: F401
    start = time.perf_counter()
    n, last_sku = read(path)
    seconds = time.perf_counter() - start
    expected = f"SKU-{rows - 1:08d}"
    if n != rows or last_sku != expected:
        raise SystemExit(f"{scenario} read {n} rows ending {last_sku!r}; "
                         f"expected {rows} ending {expected!r}")
    print(json.dumps({"seconds": seconds}))


# -- the parent ------------------------------------------------------------
def measure(scenario: str, path: Path, rows: int) -> tuple[float, float]:
    """Run one scenario in a child; (seconds, peak RSS in MB) of that child."""
    cmd = [sys.executable, __file__, "--child", scenario, "--path", str(path),
           "--rows", str(rows)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"scenario {scenario} failed:\n{out.decode()}\n{err.decode()}")
    seconds = json.loads(out.decode().strip().splitlines()[-1])["seconds"]
    return seconds, usage.ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=2,
                    help="rounds; the fastest of each scenario is kept")
    ap.add_argument("--child")
    ap.add_argument("--path")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.path, args.rows)
        return

    n = args.rows
    path = generate(n)
    print(f"{n:,} rows x {len(COLUMNS)} columns, {path.stat().st_size / 1e6:.1f} MB XLSX",
          flush=True)
    labels = {"openpyxl": "openpyxl read-only (old path)", "ferry": "ferry reader (calamine)"}
    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.repeat):
        for scenario, label in labels.items():
            seconds, mb = measure(scenario, path, n)
            old = best.get(scenario)
            best[scenario] = (min(seconds, old[0]) if old else seconds,
                              max(mb, old[1]) if old else mb)
            print(f"  {label:<32} {n / seconds:>10,.0f} rows/s {seconds:>7.2f} s "
                  f"{mb:>8.1f} MB", flush=True)
    ratio = best["openpyxl"][0] / best["ferry"][0]
    print()
    print(f"| reader ({n:,} rows) | rows/s | seconds | peak MB |")
    print("|---|---:|---:|---:|")
    for scenario, label in labels.items():
        seconds, mb = best[scenario]
        print(f"| {label} | {n / seconds:,.0f} | {seconds:.2f} | {mb:.0f} |")
    ok = ratio >= TARGET_RATIO
    print(f"\nferry reader >= {TARGET_RATIO:g}x openpyxl: {ratio:.1f}x "
          f"{'PASS' if ok else 'FAIL'}")
    if not ok:
        raise SystemExit(f"target failed: ferry reader {ratio:.1f}x openpyxl, "
                         f"below {TARGET_RATIO:g}x")


if __name__ == "__main__":
    main()
