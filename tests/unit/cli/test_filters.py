"""Filters built from ``ferry runs list`` flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
import pytest
from ferry_cli.filters import build_run_filter, quote

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_no_flags_means_no_filter():
    assert build_run_filter() == ""


def test_every_flag_joined_by_and():
    text = build_run_filter(status="failed", entity="products", operation="import",
                            profile="stock-feed", schedule_id="s-1",
                            since=timedelta(hours=2), now=NOW)
    assert text == ('status = "FAILED" AND entity_type = "products" AND operation = "IMPORT" '
                    'AND profile = "stock-feed" AND schedule_id = "s-1" '
                    'AND queue_time >= "2026-11-28T10:00:00Z"')


@pytest.mark.parametrize("given", ["FAILED", "failed", "Failed", "RUN_STATUS_FAILED"])
def test_status_short_names(given):
    assert build_run_filter(status=given) == 'status = "FAILED"'


def test_unknown_status_lists_the_choices():
    with pytest.raises(click.BadParameter, match="queued, running, completed, warning, failed"):
        build_run_filter(status="broken")


def test_unknown_operation():
    with pytest.raises(click.BadParameter, match="import, export"):
        build_run_filter(operation="sync")


def test_values_are_quoted_and_escaped():
    assert quote('a "b" \\ c') == '"a \\"b\\" \\\\ c"'
    assert build_run_filter(profile='x" OR status = "y') == 'profile = "x\\" OR status = \\"y"'
