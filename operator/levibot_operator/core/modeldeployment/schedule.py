"""Cron schedules for periodic retraining: validation and next-run arithmetic.

Layer: core (pure; croniter does no I/O). Times are timezone-aware UTC datetimes passed in.
"""

from datetime import datetime

from croniter import croniter


def is_valid_schedule(schedule: str) -> bool:
    """True when ``schedule`` is a five-field cron expression or a croniter alias (@daily...)."""
    fields = schedule.split()
    if not schedule.startswith("@") and len(fields) != 5:
        return False
    return bool(croniter.is_valid(schedule))


def plan_next_run(schedule: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` at which ``schedule`` fires."""
    nxt: datetime = croniter(schedule, after).get_next(datetime)
    return nxt


def is_retraining_due(schedule: str | None, last_started: datetime | None, now: datetime) -> bool:
    """True when a scheduled retraining fell due between the last training start and now."""
    if schedule is None or last_started is None:
        return False
    return plan_next_run(schedule, last_started) <= now
