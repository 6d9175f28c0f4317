"""Fire times of a ``ferry.v1.Schedule``.

Wall-clock triggers are evaluated in the schedule's time zone and handle
daylight-saving changes the way Debian's cron does:

* A trigger at a fixed time of day (``daily``, ``weekly``, and ``cron``
  expressions without ``*`` in the minute and hour fields) follows the wall
  clock. When that wall time does not exist (spring forward) it fires at the
  first valid instant after the gap (02:30 in Europe/Paris on the
  spring-forward day fires at 03:00 local); when it occurs twice (fall back)
  it fires once, at the first occurrence.
* A trigger with ``*`` in the minute or hour field (``hourly``, and cron
  expressions such as ``*/15 * * * *``) follows real time: it fires at every
  instant whose local wall time matches, so an hourly trigger fires once per
  real hour, twice in the repeated hour of a fall-back night and not at all
  for wall times skipped by a spring-forward night.
* ``interval`` triggers count real elapsed time from their anchor
  (``interval.start_time``, else the schedule's ``create_time``).
* ``manual`` triggers never fire.

Offset changes larger than 3 hours (rare historical zone moves) are not
handled exactly. Every returned time is an aware UTC datetime.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, croniter
from ferry.errors import InvalidArgumentError, Violation
from ferry.v1 import schedule_pb2

from ferry_domain.schedules.validation import validate_schedule

# Largest change of UTC offset handled exactly (DST moves are 1 hour, at most 2).
_OFFSET_MARGIN = timedelta(hours=3)
# Cron candidates examined per requested fire time before giving up.
_MAX_CANDIDATES_PER_FIRE = 2000


def next_fire_time(schedule: schedule_pb2.Schedule, after: datetime) -> datetime | None:
    """The first fire time strictly after ``after``; None for manual schedules
    (and for cron expressions that never fire again)."""
    times = fire_times_after(schedule, after, 1)
    return times[0] if times else None


def fire_times_after(
    schedule: schedule_pb2.Schedule, after: datetime, count: int
) -> list[datetime]:
    """The next ``count`` fire times strictly after ``after``, ascending, as aware
    UTC datetimes. A naive ``after`` is taken as UTC. Raises
    :class:`ferry.errors.InvalidArgumentError` for an invalid schedule."""
    violations = validate_schedule(schedule)
    if violations:
        raise InvalidArgumentError.from_violations("schedule", violations)
    if count <= 0:
        return []
    after = _as_utc(after)
    kind = schedule.WhichOneof("trigger")
    if kind == "manual":
        return []
    if kind == "interval":
        return _interval_fires(schedule, after, count)
    expression, real_time = _as_cron(schedule)
    zone = ZoneInfo(schedule.time_zone or "UTC")
    return _cron_fires(expression, zone, after, count, real_time=real_time)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _as_cron(schedule: schedule_pb2.Schedule) -> tuple[str, bool]:
    """The cron expression of a wall-clock trigger and whether it follows real time."""
    kind = schedule.WhichOneof("trigger")
    if kind == "hourly":
        return f"{schedule.hourly.minute} * * * *", True
    if kind == "daily":
        time = schedule.daily.time
        return f"{time.minutes} {time.hours} * * *", False
    if kind == "weekly":
        time = schedule.weekly.time
        cron_day = schedule.weekly.day % 7  # Weekday: MONDAY=1..SUNDAY=7; cron: SUNDAY=0
        return f"{time.minutes} {time.hours} * * {cron_day}", False
    expression = " ".join(schedule.cron.expression.split())
    minute, hour = expression.split()[:2]
    return expression, "*" in minute or "*" in hour


def _cron_fires(
    expression: str, zone: ZoneInfo, after: datetime, count: int, *, real_time: bool
) -> list[datetime]:
    # Walk the expression over naive local wall times, map each wall time to the
    # instants it denotes, and stop once later wall times cannot come earlier
    # than the count-th instant found.
    start = after.astimezone(zone).replace(tzinfo=None) - _OFFSET_MARGIN
    walker = croniter(expression, start)
    found: set[datetime] = set()
    for _ in range(_MAX_CANDIDATES_PER_FIRE * count):
        try:
            wall = walker.get_next(datetime)
        except CroniterBadDateError:
            break
        found.update(t for t in _instants_at(wall, zone, real_time=real_time) if t > after)
        if len(found) >= count:
            kth = sorted(found)[count - 1]
            if wall > kth.astimezone(zone).replace(tzinfo=None) + _OFFSET_MARGIN:
                break
    return sorted(found)[:count]


def _instants_at(wall: datetime, zone: ZoneInfo, *, real_time: bool) -> list[datetime]:
    """The UTC instants at which the local wall time ``wall`` fires."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) != wall:
        # The wall time falls in a gap (spring forward).
        if real_time:
            return []
        return [_transition_between(second, first, zone)]
    if real_time and second != first:
        return [first, second]  # both occurrences of a repeated wall time
    return [first]


def _transition_between(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The instant in (before, after] at which ``zone``'s UTC offset changes."""
    low, high = int(before.timestamp()), int(after.timestamp())
    low_offset = datetime.fromtimestamp(low, zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == low_offset:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _interval_fires(schedule: schedule_pb2.Schedule, after: datetime, count: int) -> list[datetime]:
    interval = schedule.interval
    if interval.HasField("start_time"):
        anchor = interval.start_time.ToDatetime(tzinfo=UTC)
    elif schedule.HasField("create_time"):
        anchor = schedule.create_time.ToDatetime(tzinfo=UTC)
    else:
        raise InvalidArgumentError.from_violations(
            "schedule",
            [
                Violation(
                    "schedule.interval.start_time",
                    "is required when the schedule has no create_time",
                )
            ],
        )
    every = interval.every.ToTimedelta()
    if after < anchor:
        first = 0
    else:
        first = (after - anchor) // every + 1
    return [anchor + every * (first + k) for k in range(count)]
