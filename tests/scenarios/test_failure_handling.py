"""The product page's failure-handling sequence, as one operator session
through a real registry, scheduler, runner and RabbitMQ, with the ``ferry``
CLI: the supplier renames a column, the nightly import fails, and the
operator opens the run, reads its first error and first skipped record,
checks the shape and the credentials (``profiles validate``, on a runner),
fixes the mapping, dry-runs the fix on the failed file, replays the failed
run from ``failed_dir`` and sees it complete.

The profile is examples/supplier-products.yaml on its example files
(examples/data/supplier). docs/walkthroughs.md shows this session with its
real output.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.integration.runner import stack
from tests.scenarios.conftest import Operator
from tests.scenarios.test_recommended_manual_test import ROOT, run_id
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]

PROFILE = "supplier-products"
LOCATION = ".ferry/examples/data/supplier/catalog-*.csv"
TARGET = "  dsn: env:FERRY_EXAMPLE_TARGET_DSN\n"


BROKEN = """SKU;Name;Brand;Price;Stock;EAN;Categories;Status
ac-1001;Trail Runner 2 Shoe;Northpeak;84,90 EUR;10;4006381333931;Footwear|Running;active
ac-1002;Merino Crew Sock;Northpeak;14,50 EUR;132;4006381333948;Apparel|Socks;active
ac-1003;Summit 30L Daypack;Ridgeway;64,00 EUR;0;4006381333955;Bags|Backpacks;inactive
ac-1004;Storm Shell Jacket;Ridgeway;1.249,00 EUR;4;4006381333962;Apparel|Jackets;active
ac-1005;Alpine Beanie;Northpeak;19,00 EUR;55;;Apparel|Hats;discontinued
;5 products;;;;;;
"""
FIX = (("    price: {source: Price, transforms: [",
        "    price: {source: Price, transforms: [{replace: {old: ' EUR', new: ''}}, "),
       ("  filters:\n", "  filters:\n    - {column: SKU, equals_any: [''], negate: true}\n"))


def supplier_profile(tmp_path: Path) -> Path:
    """examples/supplier-products.yaml on the drop folder ``tmp_path/drop``, with
    a failed_dir, into the runner's default target."""
    text = (ROOT / "examples/supplier-products.yaml").read_text()
    text = text.replace(LOCATION, str(tmp_path / "drop" / "catalog-*.csv")).replace(TARGET, "")
    text = text.replace("retention:\n", f"retention:\n  failed_dir: {tmp_path / 'failed'}\n")
    path = tmp_path / "supplier-products.yaml"
    path.write_text(text)
    return path


def test_failure_handling(tmp_path: Path, operator: Operator,
                          services: list[ServiceProcess]) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(ROOT / "examples/data/supplier/catalog-2026-11-27.csv", drop)
    profile = supplier_profile(tmp_path)
    operator("profiles", "apply", "-f", str(profile))
    good = operator("runs", "start", PROFILE, "--wait")
    assert "COMPLETED: read 3, created 3" in good.stdout, good.stdout

    # The supplier's new export: prices with a currency, and a summary line.
    (drop / "catalog-2026-11-29.csv").write_text(BROKEN)
    failed = operator("runs", "start", PROFILE, "--wait", expect=1)
    failed_id = run_id(failed.stdout)
    assert "FAILED: read 6, skipped 1, filtered 1, errors 4" in failed.stdout, failed.stdout

    # Open the run: its first error and first skipped record, with a hint.
    shown = operator("runs", "get", failed_id, "--no-events").stdout
    assert re.search(r"^first error: +row 1, price: '84,90 EUR' is not a decimal number$",
                     shown, re.M), shown
    assert re.search(r"^first skip: +row 6: missing key: sku$", shown, re.M), shown
    assert "hint:          rows were rejected above the profile's error threshold" in shown
    assert re.search(rf"^profile: +{PROFILE} \(revision 1\), failing since .+ \(1 failed run",
                     shown, re.M), shown
    sample = operator("runs", "sample", failed_id).stdout
    assert "ac-1001" in sample.lower() and "84,90 EUR" in sample, sample
    failed_file = re.search(r"moved to failed  (\S+)", shown)[1]
    assert failed_file.startswith(str(tmp_path / "failed")) \
        and failed_file.endswith("/catalog-2026-11-29.csv"), shown
    assert Path(failed_file).is_file() and not (drop / "catalog-2026-11-29.csv").exists()
    rejected = operator("runs", "errors", failed_id).stdout.splitlines()
    assert [line.split(",")[:3] for line in rejected[1:]] == [
        ["1", "error", "price"], ["2", "error", "price"], ["3", "error", "price"],
        ["4", "error", "price"], ["6", "skipped", "sku"]], rejected

    # Shape and credentials, checked by a runner where the data is.
    checked = operator("profiles", "validate", PROFILE).stdout
    assert re.search(r"^✓ credentials +the profile names no secrets$", checked, re.M), checked
    assert re.search(r"^✓ shape drift +the same columns and types as the last good run", checked,
                     re.M), checked
    # The broken file went to failed_dir, so the folder's remaining file is
    # fine; --source checks the failed file itself.
    # Its columns and sampled types are those of the last good run: the
    # problem is in the values, as `runs get` said.
    checked = operator("profiles", "validate", PROFILE, "--source", failed_file).stdout
    assert re.search(rf"^✓ source +file {re.escape(failed_file)} is readable", checked, re.M), \
        checked
    assert re.search(r"^✓ shape drift +the same columns and types as the last good run", checked,
                     re.M), checked

    # The fix: the mapping drops the currency and filters the summary line.
    text = profile.read_text()
    for old, new in FIX:
        text = text.replace(old, new)
    profile.write_text(text)
    applied = operator("profiles", "apply", "-f", str(profile)).stdout
    assert "a dry run is required before the next live run" in applied

    # Dry run of the fix on the failed file, then the replay of the failed run.
    dry = operator("runs", "start", PROFILE, "--dry-run", "--source", failed_file, "--wait")
    assert "COMPLETED (dry run): read 6, created 1, updated 3, filtered 2" in dry.stdout, dry.stdout
    replay = operator("runs", "retry", failed_id, "--wait")
    assert "COMPLETED: read 6, created 1, updated 3, filtered 2" in replay.stdout, replay.stdout
    shown = operator("runs", "get", run_id(replay.stdout), "--no-events").stdout
    assert re.search(rf"^source: +{re.escape(failed_file)} \(override\)$", shown, re.M), shown
    assert stack.target_row(f"sqlite:///{tmp_path / 'target.db'}", "AC-1004")["price"] == 1249

    # Evidence released: the profile is no longer failing; the failed run, its
    # rejected rows and its sample stay readable until the keep days after
    # this completed live run pass (the registry's janitor).
    after = operator("runs", "get", failed_id, "--no-events").stdout
    assert "first error" in after and "failing since" not in after, after
    assert "84,90 EUR" in operator("runs", "sample", failed_id).stdout
