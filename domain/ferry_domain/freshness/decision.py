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


@dataclass(frozen=True)
class Evidence:
    """What a run records about the gate (``Run.freshness``)."""

    method: str
    previous_token: str
    current_token: str
    verdict: Verdict

    def to_proto(self) -> run_pb2.FreshnessEvidence:
        return run_pb2.FreshnessEvidence(
            method=profile_pb2.FreshnessMethod.Value(self.method),
            previous_token=self.previous_token,
            current_token=self.current_token,
            verdict=run_pb2.FreshnessVerdict.Value(f"FRESHNESS_VERDICT_{self.verdict.value}"),
        )


@dataclass(frozen=True)
class FreshnessReport:
    """The gate's answer for one run.

    ``method`` is the deciding method's enum name (for CHANGED the first,
    cheapest method that saw a change; for UNCHANGED the last, strongest
    method that confirmed it). ``current_token`` is what the registry stores
    when the run ends COMPLETED or WARNING; ``results`` keeps each method's
    own outcome for logs.
    """

    verdict: Verdict
    method: str
    previous_token: str
    current_token: str
    results: tuple[MethodResult, ...] = field(default=())

    @property
    def unchanged(self) -> bool:
        return self.verdict is Verdict.UNCHANGED

    @property
    def evidence(self) -> Evidence:
        return Evidence(self.method, self.previous_token, self.current_token, self.verdict)

    def to_proto(self) -> run_pb2.FreshnessEvidence:
        return self.evidence.to_proto()

    def summary(self) -> str:
        """One line for the run log, e.g. ``UNCHANGED by CHECKSUM (mtime_size: …)``."""
        name = self.method.removeprefix("FRESHNESS_METHOD_")
        parts = ", ".join(
            f"{r.key}: {r.outcome.value.lower()}" + (f" ({r.note})" if r.note else "")
            for r in self.results
        )
        return f"{self.verdict.value} by {name}" + (f" [{parts}]" if parts else "")


def decide(
    results: list[MethodResult], previous_token: str, *, force: bool = False
) -> FreshnessReport:
    """Combine method results (in the order they were probed) into a report."""
    current = tokens.encode({r.key: r.token for r in results})
    unspecified = tokens.method_name(profile_pb2.FRESHNESS_METHOD_UNSPECIFIED)
    if force or not results:
        method = tokens.method_name(results[0].method) if results else unspecified
        return FreshnessReport(Verdict.BYPASSED, method, previous_token, current, tuple(results))
    if not tokens.decode(previous_token):
        return FreshnessReport(
            Verdict.FIRST_SEEN, tokens.method_name(results[0].method), previous_token, current,
            tuple(results),
        )
    for wanted in (Outcome.CHANGED, Outcome.NO_BASELINE):
        for result in results:
            if result.outcome is wanted:
                return FreshnessReport(
                    Verdict.CHANGED, tokens.method_name(result.method), previous_token, current,
                    tuple(results),
                )
    return FreshnessReport(
        Verdict.UNCHANGED, tokens.method_name(results[-1].method), previous_token, current,
        tuple(results),
    )


def compare(method: int, previous: dict[str, Any], token: Any, note: str = "") -> MethodResult:
    """The outcome of a method whose token is a plain value."""
    key = tokens.method_key(method)
    if key not in previous:
        return MethodResult(method, Outcome.NO_BASELINE, token, note)
    outcome = Outcome.UNCHANGED if previous[key] == token else Outcome.CHANGED
    return MethodResult(method, outcome, token, note)
