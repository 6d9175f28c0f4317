"""Exit statuses that follow a run's final status, for scripts and CI jobs.

``runs start --wait``, ``runs retry --wait`` and ``runs watch`` end with:

- 0: the run succeeded (``states.SUCCEEDED``: COMPLETED, or UNCHANGED:
  nothing to do is success);
- 2: the run finished WARNING (skipped or errored rows under the threshold);
- 1: anything else: the run finished FAILED or CANCELLED, is not finished,
  or the command itself failed.
"""

from __future__ import annotations

from ferry_domain.runs.states import SUCCEEDED, RunStatus

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_WARNING = 2


def exit_code_for(status: int) -> int:
    """The exit status for a run's final status."""
    if status in SUCCEEDED:
        return EXIT_OK
    if status == RunStatus.WARNING:
        return EXIT_WARNING
    return EXIT_FAILED
