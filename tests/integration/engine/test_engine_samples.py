"""The real sample files import with the shipped example profiles, into
SQLite and PostgreSQL: what is created and skipped is what a merchant
expects; a second run creates and updates nothing; a dry run reports the
same counts as the live run."""

from __future__ import annotations

import json

import pytest
from ferry_domain.engine import check_profile, run_profile
from ferry_domain.runs.states import RunStatus

from tests.integration.engine.conftest import load_sample_profile as load_profile

EXPECTED = {
    # file: (rows read, created, filtered, status)
    "woocommerce_products.yaml": (25, 25, 0, RunStatus.COMPLETED),
    "shopify_products.yaml": (17, 16, 1, RunStatus.COMPLETED),
    "magento_products.yaml": (9, 9, 0, RunStatus.COMPLETED),
    "google_merchant_products.yaml": (2, 2, 0, RunStatus.COMPLETED),
}


@pytest.mark.parametrize("example", sorted(EXPECTED))
def test_sample_imports_twice_and_dry_runs_agree(example, examples, target_url):
    profile = load_profile(examples / example)
    assert check_profile(profile) == []
    read, created, filtered, status = EXPECTED[example]
    dry_first = run_profile(profile, dry_run=True, default_target_url=target_url)
    live = run_profile(profile, dry_run=False, default_target_url=target_url)
    assert (live.counts.rows_read, live.counts.created, live.counts.filtered) == (
        read,
        created,
        filtered,
    )
    assert live.counts.errors == 0 and live.counts.skipped == 0 and live.status == status
    assert dry_first.counts == live.counts and dry_first.status == live.status
    again = run_profile(profile, dry_run=False, default_target_url=target_url)
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, created)
    dry_again = run_profile(profile, dry_run=True, default_target_url=target_url)
    assert dry_again.counts == again.counts
    assert live.shape_fingerprint == again.shape_fingerprint != ""


def _products(q, url, sql_where: str) -> dict[str, tuple]:
    rows = q(
        url,
        "select sku, name, price, sale_price, quantity, active, categories, tags, "
        f"images, options, description, parent_sku, currency from products {sql_where}",
    )
    return {r[0]: r[1:] for r in rows}


def _list(value):
    return value if isinstance(value, list) or value is None else json.loads(value)


def test_shopify_variants_inherit_the_parent_and_image_rows_are_filtered(examples, target_url, q):
    result = run_profile(
        load_profile(examples / "shopify_products.yaml"),
        dry_run=False,
        default_target_url=target_url,
    )
    # The image-only row (no Variant SKU) is left out by the profile's filter.
    assert result.status is RunStatus.COMPLETED and result.counts.filtered == 1
    assert result.first_skip_reason == "" and result.rejected_rows == []
    rows = _products(q, target_url, "")
    assert len(rows) == 16
    name, price, _, qty, active, categories, tags, images, options, body, _, _ = rows["SRT_COT_433"]
    assert name == "Example T-Shirt"  # forward-filled from the first row of the handle
    assert body.startswith("<p>This t-shirt is as simple")  # HTML kept as is
    assert _list(tags) == ["Made to Order", "Shirt Tag"]
    assert _list(options) == ["Purple", "L"]
    assert _list(categories)[-1] == "T-Shirts"
    assert float(price) == 25 and qty == 0 and bool(active) is True
    pants = rows["PNT_DEN_405"]
    assert pants[0] == "Example Jeans" and bool(pants[4]) is False
    assert _list(rows["HAT_GRY_275"][8]) == ["Default Title"]
    barcodes = q(target_url, "select barcode from products where sku = 'SRT_COT_111'")
    assert barcodes == [("3.65275E+11",)]  # lossy in the source; kept, not "fixed"


def test_woocommerce_variations_empty_prices_and_quoted_commas(examples, target_url, q):
    run_profile(
        load_profile(examples / "woocommerce_products.yaml"),
        dry_run=False,
        default_target_url=target_url,
    )
    rows = _products(q, target_url, "")
    assert rows["woo-vneck-tee"][1] is None  # variable product: no price of its own
    assert rows["logo-collection"][1] is None  # grouped
    assert rows["woo-vneck-tee-red"][10] == "woo-vneck-tee"  # variation -> parent SKU
    assert rows["woo-hoodie-red"][0] == "Hoodie - Red, No"  # quoted comma kept
    assert float(rows["woo-beanie"][1]) == 20 and float(rows["woo-beanie"][2]) == 18
    assert len(_list(rows["woo-vneck-tee"][7])) == 3  # three image URLs in one cell
    assert "Woo-tshirt-logo" in rows and "woo-tshirt" in rows  # SKU case is kept
    assert q(target_url, "select weight from products where sku = 'woo-vneck-tee'")[0][0] in (
        0.5,
        __import__("decimal").Decimal("0.5"),
    )


def test_magento_multiline_cells_and_html(examples, target_url, q):
    run_profile(
        load_profile(examples / "magento_products.yaml"),
        dry_run=False,
        default_target_url=target_url,
    )
    rows = _products(q, target_url, "")
    assert len(rows) == 9
    aim = rows["24-MG04"]
    assert aim[0] == "Aim Analog Watch"
    assert _list(aim[5]) == ["Gear", "Watches"]
    assert _list(aim[6]) == ["Recreation", "Sports", "Outdoor", "Gym"]
    assert 'Strap fits 7" to 8.0".' in aim[9]  # doubled quotes undone, HTML kept


def test_merchant_feed_price_is_not_the_shipping_price(examples, target_url, q):
    run_profile(
        load_profile(examples / "google_merchant_products.yaml"),
        dry_run=False,
        default_target_url=target_url,
    )
    rows = _products(q, target_url, "")
    one, two = rows["1"], rows["2"]
    assert float(one[1]) == 39.99 and float(one[2]) == 24.99 and one[11] == "PLN"
    assert float(two[1]) == 79.99 and two[2] is None
    assert _list(one[7]) == [
        "https://www.google.pl/1/1.jpg",
        "https://www.google.pl/1/2.jpg",
        "https://www.google.pl/1/3.jpg",
    ]
    assert "skóra ekologiczna" in _list(two[8])
