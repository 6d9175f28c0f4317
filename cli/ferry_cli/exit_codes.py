"""Exit statuses that follow a run's final status, for scripts and CI jobs.

``runs start --wait``, ``runs retry --wait`` and ``runs watch`` end with:

- 0: the run finished COMPLETED or UNCHANGED (nothing to do is success);
- 2: the run finished WARNING (skipped or errored rows under the threshold);
- 1: the run finished FAILED or CANCELLED, or the command itself failed.
"""

from __future__ import annotations

from ferry.v1 import run_pb2

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_WARNING = 2

TERMINAL = frozenset({run_pb2.RUN_STATUS_COMPLETED, run_pb2.RUN_STATUS_WARNING,
                      run_pb2.RUN_STATUS_FAILED, run_pb2.RUN_STATUS_CANCELLED,
                      run_pb2.RUN_STATUS_UNCHANGED})

_BY_STATUS = {
    run_pb2.RUN_STATUS_COMPLETED: EXIT_OK,
    run_pb2.RUN_STATUS_UNCHANGED: EXIT_OK,
    run_pb2.RUN_STATUS_WARNING: EXIT_WARNING,
    run_pb2.RUN_STATUS_FAILED: EXIT_FAILED,
    run_pb2.RUN_STATUS_CANCELLED: EXIT_FAILED,
}


def is_terminal(status: int) -> bool:
    return status in TERMINAL


def exit_code_for(status: int) -> int:
    """The exit status for a final run status; a run that is not final is a failure
    of the command (1)."""
    return _BY_STATUS.get(status, EXIT_FAILED)
