"""Durations on the wire: a negative ``google.protobuf.Duration`` in a profile or
a schedule is INVALID_ARGUMENT with a BadRequest field violation naming it."""

from __future__ import annotations

import grpc
from ferry.grpc_errors import field_violations
from google.protobuf.duration_pb2 import Duration

from tests.contract.helpers import apply, create_schedule, expect_error, hourly, profile


def test_negative_profile_durations_name_the_fields(client):
    bad = profile()
    bad.source.timeout.CopyFrom(Duration(seconds=-30))
    bad.retry.initial_backoff.CopyFrom(Duration(nanos=-1))
    error = expect_error(grpc.StatusCode.INVALID_ARGUMENT, apply, client, bad)
    violations = {v.field: v.description for v in field_violations(error)}
    assert violations == {"profile.source.timeout": "must not be negative",
                          "profile.retry.initial_backoff": "must not be negative"}


def test_negative_schedule_durations_name_the_fields(client):
    apply(client)
    schedule = hourly(misfire_grace=Duration(seconds=-60), jitter=Duration(seconds=-1))
    error = expect_error(grpc.StatusCode.INVALID_ARGUMENT, create_schedule, client, schedule)
    violations = {v.field: v.description for v in field_violations(error)}
    assert violations == {"schedule.misfire_grace": "must not be negative",
                          "schedule.jitter": "must not be negative"}
