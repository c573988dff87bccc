"""Cron schedules for periodic retraining: validation and next-run arithmetic.

Layer: core (pure; croniter does no I/O). Times are timezone-aware UTC datetimes passed in.
A schedule that names no real day (``0 2 30 2 *``, 30 February) is refused by the parser, and
the arithmetic answers None for it instead of raising, so no planner can fail on one.
"""

from datetime import UTC, datetime

from croniter import CroniterError, croniter

# A month/day pair that exists recurs within 8 years (29 February: 4, or 8 across 2100); a
# restricted weekday is OR-ed with the day of month (cron's rule), so it fires weekly.
SCHEDULE_HORIZON_YEARS = 8
_REFERENCE = datetime(2000, 1, 1, tzinfo=UTC)  # a leap year, so 29 February is reachable


def is_valid_schedule(schedule: str) -> bool:
    """True when ``schedule`` is a five-field cron expression (or alias) that ever fires."""
    fields = schedule.split()
    if not schedule.startswith("@") and len(fields) != 5:
        return False
    return bool(croniter.is_valid(schedule)) and plan_next_run(schedule, _REFERENCE) is not None


def plan_next_run(schedule: str, after: datetime) -> datetime | None:
    """The first time strictly after ``after`` at which ``schedule`` fires; None when it never
    fires within ``SCHEDULE_HORIZON_YEARS`` (or croniter cannot read it)."""
    try:
        it = croniter(schedule, after, max_years_between_matches=SCHEDULE_HORIZON_YEARS)
        nxt: datetime = it.get_next(datetime)
    except (CroniterError, ValueError, OverflowError, KeyError, IndexError, TypeError):
        return None
    return nxt


def is_retraining_due(schedule: str | None, last_started: datetime | None, now: datetime) -> bool:
    """True when a scheduled retraining fell due between the last training start and now."""
    if schedule is None or last_started is None:
        return False
    nxt = plan_next_run(schedule, last_started)
    return nxt is not None and nxt <= now
