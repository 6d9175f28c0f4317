"""The default misfire grace is defined once and applies to unset or zero graces."""

from __future__ import annotations

from datetime import timedelta

from ferry_domain.schedules import DEFAULT_MISFIRE_GRACE, misfire_grace


def test_the_default_is_five_minutes():
    assert DEFAULT_MISFIRE_GRACE == timedelta(minutes=5)


def test_a_positive_grace_applies_as_given():
    assert misfire_grace(timedelta(seconds=1)) == timedelta(seconds=1)
    assert misfire_grace(timedelta(hours=2)) == timedelta(hours=2)


def test_zero_or_less_means_the_default():
    assert misfire_grace(timedelta(0)) == DEFAULT_MISFIRE_GRACE
    assert misfire_grace(timedelta(seconds=-1)) == DEFAULT_MISFIRE_GRACE
