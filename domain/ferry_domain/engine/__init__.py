"""Ferry's import/export engine: executes one run of a profile.

Pure core (no grpc/pika): sources and formats read rows, the mapping turns
them into entity records, the SQL target upserts them in batches, exports
write files. See docs/engine.md.
"""

from ferry_domain.cells import write_rejected_csv
from ferry_domain.engine.entities import (
    EntitySchema,
    FieldSpec,
    get_entity,
    list_entities,
    register_entity,
)
from ferry_domain.engine.errors import (
    CredentialsError,
    EngineError,
    MappingError,
    PermanentSourceError,
    SourceShapeError,
    TransientSourceError,
)
from ferry_domain.engine.pipeline import run_profile
from ferry_domain.engine.profile_check import check_profile
from ferry_domain.engine.results import Counts, RejectedRow, RowError, RunResult

__all__ = [
    "CredentialsError",
    "Counts",
    "EngineError",
    "EntitySchema",
    "FieldSpec",
    "MappingError",
    "PermanentSourceError",
    "RejectedRow",
    "RowError",
    "RunResult",
    "SourceShapeError",
    "TransientSourceError",
    "check_profile",
    "get_entity",
    "list_entities",
    "register_entity",
    "run_profile",
    "write_rejected_csv",
]
