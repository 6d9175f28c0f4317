"""The product page's recommended manual test, as one operator session through
a real registry, scheduler, runner and RabbitMQ, with the ``ferry`` CLI:

dry run -> review warnings -> live import -> open records (``ferry runs
records``, ``ferry records get``) -> the same import
again (update behaviour) -> a mapping fix -> its dry run -> the live run that
imports it, saying why.

The profile is examples/samples/woocommerce_products.yaml on WooCommerce's
sample file (examples/data/samples), with source freshness checks enabled.
docs/walkthroughs.md shows this session with its real output.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.integration.runner import stack
from tests.scenarios.conftest import Operator
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]

ROOT = Path(__file__).resolve().parents[2]
PROFILE = "samples-woocommerce-products"
SAMPLE = "examples/data/samples/woocommerce_sample_products.csv"
NAME_MAPPING = "    name:\n      source: Name\n      transforms:\n      - trim\n"


def run_id(output: str) -> str:
    """The id on the last line that shows one: the run a command followed."""
    return re.findall(r"\b[0-9a-f]{32}\b", output)[-1]


def test_recommended_manual_test(tmp_path: Path, operator: Operator,
                                 services: list[ServiceProcess]) -> None:
    shutil.copy(ROOT / SAMPLE, tmp_path / "woocommerce_sample_products.csv")
    profile = tmp_path / "woocommerce_products.yaml"
    profile.write_text((ROOT / "examples/samples/woocommerce_products.yaml").read_text()
                       .replace(SAMPLE, str(tmp_path / "woocommerce_sample_products.csv"))
                       + "freshness: [mtime_size, checksum]\n")
    operator("profiles", "apply", "-f", str(profile))
    target = f"sqlite:///{tmp_path / 'target.db'}"

    # Dry run, then review its warnings and first error: nothing is rejected,
    # one warning names the 36 columns the mapping leaves out.
    dry = operator("runs", "start", PROFILE, "--dry-run", "--wait")
    assert "COMPLETED (dry run): read 25, created 25" in dry.stdout, dry.stdout
    shown = operator("runs", "get", run_id(dry.stdout), "--no-events")
    assert "36 source columns are not mapped: 'ID', 'Is featured?'" in shown.stdout, shown.stdout
    assert "first error" not in shown.stdout, shown.stdout
    rejected = operator("runs", "errors", run_id(dry.stdout))
    assert rejected.stdout.splitlines()[0].startswith("row,outcome,field,message,ID,Type,SKU")
    assert len(rejected.stdout.splitlines()) == 1 and "no rejected rows" in rejected.stderr
    assert not (tmp_path / "target.db").exists() or stack.target_rows(target) == 0

    # The live import, then a look at a few of the imported records.
    live = operator("runs", "start", PROFILE, "--wait")
    assert "COMPLETED: read 25, created 25" in live.stdout, live.stdout
    assert "no import recorded yet" in live.stdout
    wrote = operator("runs", "records", run_id(live.stdout), "--limit", "0")
    assert re.search(r"^created\s+woo-vneck-tee$", wrote.stdout, re.M), wrote.stdout
    assert wrote.stdout.rstrip().endswith("25 record(s)"), wrote.stdout
    opened_skus = (("woo-vneck-tee", "V-Neck T-Shirt"), ("Woo-tshirt-logo", "T-Shirt with Logo"))
    for sku, name in opened_skus:
        opened = operator("records", "get", PROFILE, sku)
        assert re.search(rf"^  name:\s+{name}$", opened.stdout, re.M), opened.stdout
        assert f"written by run {run_id(live.stdout)}" in opened.stdout, opened.stdout
        assert stack.target_row(target, sku)["name"] == name

    # The same import again: the source did not change, nothing is read; forced,
    # every record is read and found up to date.
    again = operator("runs", "start", PROFILE, "--wait")
    assert "UNCHANGED: source unchanged, nothing read" in again.stdout, again.stdout
    assert "source unchanged since the last import" in again.stdout
    forced = operator("runs", "start", PROFILE, "--force", "--wait")
    assert "COMPLETED: read 25, unchanged 25" in forced.stdout, forced.stdout

    # A mapping fix: names in upper case. Its dry run updates every record
    # and writes nothing; the live run imports the unchanged file and says why.
    profile.write_text(profile.read_text().replace(NAME_MAPPING, f"{NAME_MAPPING}      - upper\n"))
    applied = operator("profiles", "apply", "-f", str(profile))
    assert "updated (mapping changed: a dry run is required before the next live run)" in \
        applied.stdout, applied.stdout
    dry = operator("runs", "start", PROFILE, "--dry-run", "--wait")
    assert "COMPLETED (dry run): read 25, updated 25" in dry.stdout, dry.stdout
    assert stack.target_row(target, "woo-vneck-tee")["name"] == "V-Neck T-Shirt"
    fixed = operator("runs", "start", PROFILE, "--wait")
    assert "COMPLETED: read 25, updated 25" in fixed.stdout, fixed.stdout
    assert "mapping changed since the last import" in fixed.stdout
    shown = operator("runs", "get", run_id(fixed.stdout), "--no-events")
    assert re.search(r"^freshness: .*mapping changed since the last import", shown.stdout,
                     re.M), shown.stdout
    assert stack.target_row(target, "woo-vneck-tee")["name"] == "V-NECK T-SHIRT"
    listed = operator("runs", "list", "--profile", PROFILE)
    statuses = [line.split()[2:4] for line in listed.stdout.splitlines()[1:]]
    assert [" ".join(cells) for cells in statuses] == [  # newest first
        "COMPLETED manual", "COMPLETED (dry", "COMPLETED manual", "UNCHANGED manual",
        "COMPLETED manual", "COMPLETED (dry"], listed.stdout
