"""ferry.config.Env: durations from FERRY_* variables use the one grammar and
a bad value names the variable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ferry.config import ConfigError, Env


@pytest.mark.parametrize(("raw", "expected"), [
    ("250ms", timedelta(milliseconds=250)),
    ("30s", timedelta(seconds=30)),
    ("10m", timedelta(minutes=10)),
    ("2h", timedelta(hours=2)),
    ("7d", timedelta(days=7)),
    ("1h30m", timedelta(minutes=90)),
    ("90", timedelta(seconds=90)),
])
def test_duration_variables_read_every_unit(raw, expected):
    assert Env({"FERRY_JANITOR_INTERVAL": raw}).duration("FERRY_JANITOR_INTERVAL", "10m") \
        == expected


@pytest.mark.parametrize("environ", [{}, {"FERRY_JANITOR_INTERVAL": ""}])
def test_unset_or_empty_takes_the_default(environ):
    assert Env(environ).duration("FERRY_JANITOR_INTERVAL", "10m") == timedelta(minutes=10)


@pytest.mark.parametrize(("raw", "reason"), [
    ("soon", "is not a duration"),
    ("30m1h", "largest unit first"),
    ("-5s", "not negative"),
])
def test_a_bad_duration_names_the_variable_and_the_reason(raw, reason):
    with pytest.raises(ConfigError, match=reason) as caught:
        Env({"FERRY_RUN_LEASE": raw}).duration("FERRY_RUN_LEASE", "30s")
    assert str(caught.value).startswith(f'FERRY_RUN_LEASE: "{raw}"')
