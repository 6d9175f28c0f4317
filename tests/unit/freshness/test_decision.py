"""The combined decision: every method must agree for UNCHANGED."""

from __future__ import annotations

from ferry.v1 import profile_pb2 as pb
from ferry.v1 import run_pb2
from ferry_domain.freshness import Outcome, Verdict, decide
from ferry_domain.freshness.decision import MethodResult, compare
from ferry_domain.freshness.tokens import decode, encode, method_key

MTIME = pb.FRESHNESS_METHOD_MTIME_SIZE
SUM = pb.FRESHNESS_METHOD_CHECKSUM
PREVIOUS = encode({"mtime_size": "10@t1", "checksum": "xxh3_128:aa"})


def test_token_is_compact_json_sorted_by_method() -> None:
    token = encode({"mtime_size": "10@t1", "checksum": "xxh3_128:aa"})
    assert token == '{"checksum":"xxh3_128:aa","mtime_size":"10@t1"}'
    assert decode(token) == {"checksum": "xxh3_128:aa", "mtime_size": "10@t1"}
    assert method_key(pb.FRESHNESS_METHOD_DB_MAX_UPDATED) == "db_max_updated"


def test_unreadable_or_empty_token_has_no_baseline() -> None:
    assert decode("") == {}
    assert decode("not json") == {}
    assert decode('["a list"]') == {}


def test_unchanged_only_when_every_method_agrees() -> None:
    previous = decode(PREVIOUS)
    same = [compare(MTIME, previous, "10@t1"), compare(SUM, previous, "xxh3_128:aa")]
    report = decide(same, PREVIOUS)
    assert report.verdict is Verdict.UNCHANGED
    assert report.current_token == PREVIOUS
    assert report.method == "FRESHNESS_METHOD_CHECKSUM"

    touched = [compare(MTIME, previous, "10@t2"), compare(SUM, previous, "xxh3_128:aa")]
    report = decide(touched, PREVIOUS)
    assert report.verdict is Verdict.CHANGED
    assert report.method == "FRESHNESS_METHOD_MTIME_SIZE"
    assert decode(report.current_token) == {"mtime_size": "10@t2", "checksum": "xxh3_128:aa"}


def test_a_method_added_to_the_profile_has_no_baseline_and_counts_as_changed() -> None:
    previous = {"mtime_size": "10@t1"}
    results = [compare(MTIME, previous, "10@t1"), compare(SUM, previous, "xxh3_128:aa")]
    assert results[1].outcome is Outcome.NO_BASELINE
    report = decide(results, encode(previous))
    assert report.verdict is Verdict.CHANGED
    assert report.method == "FRESHNESS_METHOD_CHECKSUM"


def test_first_seen_without_previous_token() -> None:
    report = decide([compare(MTIME, {}, "10@t1")], "")
    assert report.verdict is Verdict.FIRST_SEEN
    assert report.previous_token == ""
    assert report.current_token == '{"mtime_size":"10@t1"}'


def test_force_and_no_methods_bypass_but_force_keeps_the_current_token() -> None:
    forced = decide([compare(MTIME, decode(PREVIOUS), "10@t1")], PREVIOUS, force=True)
    assert forced.verdict is Verdict.BYPASSED
    assert forced.current_token == '{"mtime_size":"10@t1"}'
    empty = decide([], PREVIOUS)
    assert empty.verdict is Verdict.BYPASSED
    assert empty.method == "FRESHNESS_METHOD_UNSPECIFIED"
    assert empty.current_token == ""


def test_evidence_converts_to_the_run_proto() -> None:
    results = [MethodResult(SUM, Outcome.UNCHANGED, "xxh3_128:aa")]
    report = decide(results, '{"checksum":"xxh3_128:aa"}')
    proto = report.to_proto()
    assert isinstance(proto, run_pb2.FreshnessEvidence)
    assert proto.method == pb.FRESHNESS_METHOD_CHECKSUM
    assert proto.verdict == run_pb2.FRESHNESS_VERDICT_UNCHANGED
    assert proto.previous_token == proto.current_token == '{"checksum":"xxh3_128:aa"}'
    assert report.evidence.to_proto() == proto
    assert report.summary().startswith("UNCHANGED by CHECKSUM")


def test_a_new_profile_digest_makes_an_unchanged_source_changed() -> None:
    stored = encode({"checksum": "xxh3_128:aa", "profile_digest": "sha256:old"})
    same_source = [compare(SUM, decode(stored), "xxh3_128:aa")]
    report = decide(same_source, stored, profile_digest="sha256:new")
    assert report.verdict is Verdict.CHANGED
    proto = report.to_proto()
    assert proto.reason == run_pb2.FRESHNESS_REASON_PROFILE_CHANGED
    assert proto.reason_detail == "mapping changed since the last import"
    assert decode(report.current_token)["profile_digest"] == "sha256:new"
    again = decide(same_source, report.current_token, profile_digest="sha256:new")
    assert again.verdict is Verdict.UNCHANGED
    assert again.to_proto().reason == run_pb2.FRESHNESS_REASON_SOURCE_UNCHANGED


def test_a_source_change_keeps_its_own_evidence() -> None:
    stored = encode({"checksum": "xxh3_128:aa", "profile_digest": "sha256:d"})
    report = decide([compare(SUM, decode(stored), "xxh3_128:bb")], stored,
                    profile_digest="sha256:d")
    assert report.verdict is Verdict.CHANGED
    assert report.to_proto().reason == run_pb2.FRESHNESS_REASON_SOURCE_CHANGED
    assert report.method == "FRESHNESS_METHOD_CHECKSUM"


def test_a_token_reset_by_a_rollback_is_changed_naming_the_rollback() -> None:
    previous = encode({"profile_digest": "sha256:d1", "rolled_back_by": "rb-1"})
    results = [compare(SUM, decode(previous), "xxh3_128:aa")]
    report = decide(results, previous, profile_digest="sha256:d1")
    assert report.verdict is Verdict.CHANGED
    assert report.detail == "run rb-1 rolled back the last import"
    assert decode(report.current_token) == {"checksum": "xxh3_128:aa",
                                            "profile_digest": "sha256:d1"}
