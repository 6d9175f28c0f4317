"""The freshness decision: per-method outcomes in, one verdict out.

Pure: no I/O. Each probed method reports whether it saw the same state as the
stored token (``UNCHANGED``), a different one (``CHANGED``), or had nothing
to compare with (``NO_BASELINE``). The source is unchanged only when every
configured method says so (``Profile.freshness``: "the source is unchanged
only when every method agrees").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ferry.v1 import profile_pb2, run_pb2

from ferry_domain.freshness import tokens


class Verdict(StrEnum):
    CHANGED = "CHANGED"
    UNCHANGED = "UNCHANGED"
    FIRST_SEEN = "FIRST_SEEN"
    BYPASSED = "BYPASSED"


class Outcome(StrEnum):
    """What one method saw."""

    CHANGED = "CHANGED"
    UNCHANGED = "UNCHANGED"
    NO_BASELINE = "NO_BASELINE"


@dataclass(frozen=True)
class MethodResult:
    """One method's probe: its outcome and the token to store for it."""

    method: int  # profile_pb2.FreshnessMethod
    outcome: Outcome
    token: Any
    note: str = ""

    @property
    def key(self) -> str:
        return tokens.method_key(self.method)


class Reason(StrEnum):
    """Why the gate decided so (``FreshnessReason`` without its prefix)."""

    SOURCE_CHANGED = "SOURCE_CHANGED"
    SOURCE_UNCHANGED = "SOURCE_UNCHANGED"
    PROFILE_CHANGED = "PROFILE_CHANGED"
    NO_NEW_INPUT = "NO_NEW_INPUT"
    SAME_CONTENT = "SAME_CONTENT"
    BYPASSED = "BYPASSED"


PROFILE_CHANGED_DETAIL = "mapping changed since the last import"
NO_DIGEST_DETAIL = "the last import stored no profile digest"
NO_NEW_INPUT_DETAIL = "no new input"


@dataclass(frozen=True)
class Evidence:
    """What a run records about the gate (``Run.freshness``)."""

    method: str
    previous_token: str
    current_token: str
    verdict: Verdict
    reason: Reason = Reason.SOURCE_CHANGED
    detail: str = ""
    profile_digest: str = ""

    def to_proto(self) -> run_pb2.FreshnessEvidence:
        return run_pb2.FreshnessEvidence(
            method=profile_pb2.FreshnessMethod.Value(self.method),
            previous_token=self.previous_token,
            current_token=self.current_token,
            verdict=run_pb2.FreshnessVerdict.Value(f"FRESHNESS_VERDICT_{self.verdict.value}"),
            reason=run_pb2.FreshnessReason.Value(f"FRESHNESS_REASON_{self.reason.value}"),
            reason_detail=self.detail,
            profile_digest=self.profile_digest,
        )


@dataclass(frozen=True)
class FreshnessReport:
    """The gate's answer for one run.

    ``method`` is the deciding method's enum name (for CHANGED the first,
    cheapest method that saw a change; for UNCHANGED the last, strongest
    method that confirmed it). ``current_token`` is what the registry stores
    when the run ends COMPLETED or WARNING; ``results`` keeps each method's
    own outcome for logs. ``reason`` and ``detail`` say why in a kind and in
    words (``Run.freshness.reason``, ``reason_detail``).
    """

    verdict: Verdict
    method: str
    previous_token: str
    current_token: str
    results: tuple[MethodResult, ...] = field(default=())
    reason: Reason = Reason.SOURCE_CHANGED
    detail: str = ""
    profile_digest: str = ""

    @property
    def unchanged(self) -> bool:
        return self.verdict is Verdict.UNCHANGED

    @property
    def evidence(self) -> Evidence:
        return Evidence(self.method, self.previous_token, self.current_token, self.verdict,
                        self.reason, self.detail, self.profile_digest)

    def to_proto(self) -> run_pb2.FreshnessEvidence:
        return self.evidence.to_proto()

    def summary(self) -> str:
        """One line for the run log, e.g. ``UNCHANGED by CHECKSUM (mtime_size: …)``."""
        name = self.method.removeprefix("FRESHNESS_METHOD_")
        parts = ", ".join(
            f"{r.key}: {r.outcome.value.lower()}" + (f" ({r.note})" if r.note else "")
            for r in self.results
        )
        by = "" if self.method == tokens.method_name(profile_pb2.FRESHNESS_METHOD_UNSPECIFIED) \
            else f" by {name}"
        line = f"{self.verdict.value}{by}" + (f" [{parts}]" if parts else "")
        return line + (f": {self.detail}" if self.detail else "")


def decide(
    results: list[MethodResult], previous_token: str, *, force: bool = False,
    profile_digest: str = "",
) -> FreshnessReport:
    """Combine method results (in the order they were probed) into a report.

    ``profile_digest`` (``ferry_domain.profiles.digest``) is stored in the
    token next to the methods' own tokens: when it differs from the stored
    one, the verdict is CHANGED whatever the methods saw, because the same
    source would now be written differently."""
    parts: dict[str, Any] = {r.key: r.token for r in results}
    if results and profile_digest:
        parts[tokens.DIGEST_KEY] = profile_digest
    current = tokens.encode(parts)

    def report(verdict: Verdict, method: int, reason: Reason, detail: str) -> FreshnessReport:
        return FreshnessReport(verdict, tokens.method_name(method), previous_token, current,
                               tuple(results), reason, detail, profile_digest)

    if force or not results:
        method = results[0].method if results else profile_pb2.FRESHNESS_METHOD_UNSPECIFIED
        return report(Verdict.BYPASSED, method, Reason.BYPASSED, "")
    previous = tokens.decode(previous_token)
    if not previous:
        return report(Verdict.FIRST_SEEN, results[0].method, Reason.SOURCE_CHANGED,
                      "no import recorded yet")
    stored_digest = previous.get(tokens.DIGEST_KEY)
    if profile_digest and stored_digest != profile_digest:
        detail = PROFILE_CHANGED_DETAIL if stored_digest else NO_DIGEST_DETAIL
        return report(Verdict.CHANGED, results[0].method, Reason.PROFILE_CHANGED, detail)
    rolled_back_by = previous.get(tokens.ROLLED_BACK_KEY)
    if rolled_back_by:
        return report(Verdict.CHANGED, results[0].method, Reason.SOURCE_CHANGED,
                      f"run {rolled_back_by} rolled back the last import")
    for wanted in (Outcome.CHANGED, Outcome.NO_BASELINE):
        for result in results:
            if result.outcome is wanted:
                return report(Verdict.CHANGED, result.method, Reason.SOURCE_CHANGED,
                              f"source changed since the last import ({result.key})")
    return report(Verdict.UNCHANGED, results[-1].method, Reason.SOURCE_UNCHANGED,
                  "source unchanged since the last import")


def nothing_to_read(reason: Reason, detail: str, previous_token: str,
                    profile_digest: str) -> FreshnessReport:
    """UNCHANGED without probing: a drop folder gave nothing to read
    (``NO_NEW_INPUT``, ``SAME_CONTENT``)."""
    return FreshnessReport(Verdict.UNCHANGED,
                           tokens.method_name(profile_pb2.FRESHNESS_METHOD_UNSPECIFIED),
                           previous_token, "", (), reason, detail, profile_digest)


def compare(method: int, previous: dict[str, Any], token: Any, note: str = "") -> MethodResult:
    """The outcome of a method whose token is a plain value."""
    key = tokens.method_key(method)
    if key not in previous:
        return MethodResult(method, Outcome.NO_BASELINE, token, note)
    outcome = Outcome.UNCHANGED if previous[key] == token else Outcome.CHANGED
    return MethodResult(method, outcome, token, note)
