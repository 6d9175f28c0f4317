"""Schedule math shared by the registry and the scheduler: validation of a
``ferry.v1.Schedule`` and its fire times. Pure functions, no I/O."""

from ferry_domain.schedules.fire_times import fire_times_after, next_fire_time
from ferry_domain.schedules.validation import validate_schedule

__all__ = ["fire_times_after", "next_fire_time", "validate_schedule"]
