"""Which runs speak for a profile's source.

Imports and exports read the source; a rollback (``OPERATION_ROLLBACK``)
undoes an import and reads nothing. Only runs of the source say whether it
is fresh (staleness), failing, or recovered (release of a failure's
evidence, "failing since", webhook notices): a refused rollback is not a
failing source, and a completed one is not new data.
"""

from __future__ import annotations

from typing import Any

from ferry.v1 import profile_pb2


def reads_the_source(operation: Any) -> Any:
    """The SQL condition on a run's ``operation`` column."""
    return operation != profile_pb2.OPERATION_ROLLBACK
