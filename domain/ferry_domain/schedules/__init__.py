"""Schedule math shared by the registry and the scheduler: validation of a
``ferry.v1.Schedule``, its fire times and its misfire grace. Pure functions,
no I/O."""

from ferry_domain.schedules.fire_times import fire_times_after, next_fire_time
from ferry_domain.schedules.misfire import DEFAULT_MISFIRE_GRACE, misfire_grace
from ferry_domain.schedules.validation import validate_schedule

__all__ = ["DEFAULT_MISFIRE_GRACE", "fire_times_after", "misfire_grace", "next_fire_time",
           "validate_schedule"]
