"""Prediction log retention (predictor I/O): delete this model's rows older than the retention.

The log grows by every served prediction (about 2.6 M rows a day at 30 requests/s), so each
predictor runs a periodic pass that deletes its model's rows (every version's) older than
``LOG_RETENTION_SECONDS`` (``spec.serving.predictionLog.retentionSeconds``, default 7 days):

- in batches of at most ``batch_rows`` rows, each its own statement and transaction, with a
  pause between them, so no pass holds row locks or the WAL long and inserts go on;
- at most ``max_batches`` a pass (the next pass goes on where this one stopped);
- by one replica at a time: the pass runs only while it holds a session advisory lock keyed by
  the model name; every other replica (and version) of the model skips that pass.

What the gates and the dashboard read is never this old: the calibration window is the newest
resolved rows, unresolved rows are due one horizon after they are served, and Prometheus keeps
its own history. The CRD's minimum retention (1 h) is far above the longest horizon.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from levibot_predictor.io.database import Database, DatabaseUnavailableError

log = logging.getLogger(__name__)

LOCK_KEY_SQL = "hashtextextended('levibot.prediction_log.retention:' || $1, 0)"
LOCK_SQL = f"SELECT pg_try_advisory_lock({LOCK_KEY_SQL})"
UNLOCK_SQL = f"SELECT pg_advisory_unlock({LOCK_KEY_SQL})"
# The (model_name, version, ts) index finds the batch; a LIMIT without ORDER BY never sorts.
DELETE_SQL = """
DELETE FROM prediction_log WHERE id = ANY(ARRAY(
    SELECT id FROM prediction_log WHERE model_name = $1 AND ts < $2 LIMIT $3
))
"""


@dataclass(frozen=True)
class RetentionPlan:
    """How old a row may get, and how much one pass deletes at once."""

    retention_seconds: float
    batch_rows: int = 5000
    max_batches: int = 200
    pause_seconds: float = 0.05


def plan_cutoff(now: float, plan: RetentionPlan) -> datetime:
    """Rows served before this instant are deleted."""
    return datetime.fromtimestamp(now - plan.retention_seconds, UTC)


async def apply_retention(
    database: Database, model_name: str, now: float, plan: RetentionPlan
) -> int | None:
    """Delete ``model_name``'s rows older than the retention, batch by batch; the rows
    deleted, or None when another replica holds the model's retention lock."""
    cutoff = plan_cutoff(now, plan)
    async with database.connection() as conn:
        if not await conn.fetchval(LOCK_SQL, model_name):
            return None
        try:
            deleted = 0
            for _ in range(plan.max_batches):
                status = await conn.execute(DELETE_SQL, model_name, cutoff, plan.batch_rows)
                count = int(status.split()[-1])
                deleted += count
                if count < plan.batch_rows:
                    break
                await asyncio.sleep(plan.pause_seconds)
            return deleted
        finally:
            await conn.fetchval(UNLOCK_SQL, model_name)


async def run_retention(
    database: Database, model_name: str, plan: RetentionPlan, now: float
) -> int | None:
    """One retention pass, logged; a database that is down is tried again next pass."""
    try:
        deleted = await apply_retention(database, model_name, now, plan)
    except DatabaseUnavailableError as exc:
        log.warning("retention: database unavailable: %s", exc)
        return None
    if deleted:
        log.info("retention: deleted %d prediction log rows of %s", deleted, model_name)
    return deleted
