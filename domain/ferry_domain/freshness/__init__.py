"""The freshness gate: tell, before anything is read or written, whether a
profile's source changed since the last successful live run.

``probe(profile, paths=..., previous_token=...)`` returns a
``FreshnessReport`` (verdict, deciding method, previous and current token,
``to_proto()`` for ``Run.freshness``). The caller stores ``current_token``
only when a live run ends COMPLETED or WARNING, in the same transaction as
the terminal state. See docs/freshness.md.
"""

from ferry_domain.freshness.decision import (
    Evidence,
    FreshnessReport,
    MethodResult,
    Outcome,
    Verdict,
    decide,
)
from ferry_domain.freshness.errors import (
    FreshnessCredentialsError,
    FreshnessError,
    FreshnessPermanentError,
    FreshnessTransientError,
)
from ferry_domain.freshness.probe import check_methods, ordered_methods, probe

__all__ = [
    "Evidence",
    "FreshnessCredentialsError",
    "FreshnessError",
    "FreshnessPermanentError",
    "FreshnessReport",
    "FreshnessTransientError",
    "MethodResult",
    "Outcome",
    "Verdict",
    "check_methods",
    "decide",
    "ordered_methods",
    "probe",
]
