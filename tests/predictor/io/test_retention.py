"""Prediction log retention against a real PostgreSQL (issue 12, item 10).

Only this model's rows older than the retention go (every version's), in bounded batches; a
replica that does not hold the model's advisory lock deletes nothing; the running app prunes.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import asyncpg
import pytest

from levibot_predictor.io.database import Database
from levibot_predictor.io.retention import LOCK_SQL, RetentionPlan, apply_retention
from tests.predictor.support.db import connect
from tests.predictor.support.models import make_loaded, make_model, make_settings, running_app

pytestmark = pytest.mark.postgres
COLUMNS = ("id", "model_name", "version", "track", "symbol", "ts", "p_up", "signal",
           "horizon_seconds")  # fmt: skip
DAY = 86_400.0


def rows(first: int, count: int, model: str, version: str, age: float) -> list[tuple[object, ...]]:
    ts = datetime.fromtimestamp(time.time() - age, UTC)
    return [(first + i, model, version, "stable", "", ts, 0.5, "HOLD", 60) for i in range(count)]


async def seed(conn: asyncpg.Connection) -> None:
    records = [
        *rows(1, 25, "ns.demo", "v1", 8 * DAY),
        *rows(100, 5, "ns.demo", "v2", 9 * DAY),
        *rows(200, 7, "ns.demo", "v1", 1 * DAY),
        *rows(300, 11, "ns.other", "v1", 30 * DAY),
    ]
    await conn.copy_records_to_table("prediction_log", records=records, columns=COLUMNS)


async def count_by_model(conn: asyncpg.Connection) -> dict[str, int]:
    found = await conn.fetch(
        "SELECT model_name, count(*) AS n FROM prediction_log GROUP BY model_name"
    )
    return {r["model_name"]: r["n"] for r in found}


async def test_only_this_models_old_rows_go_in_batches(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    await seed(conn)
    database = Database(pg_dsn, 5.0)
    plan = RetentionPlan(7 * DAY, batch_rows=4, pause_seconds=0.0)
    deleted = await apply_retention(database, "ns.demo", time.time(), plan)
    again = await apply_retention(database, "ns.demo", time.time(), plan)
    capped = RetentionPlan(1.0, batch_rows=2, max_batches=3, pause_seconds=0.0)
    partial = await apply_retention(database, "ns.other", time.time(), capped)
    counts = await count_by_model(conn)
    await database.close()
    await conn.close()
    assert (deleted, again, partial) == (30, 0, 6)
    assert counts == {"ns.demo": 7, "ns.other": 5}


async def test_a_replica_without_the_lock_skips_the_pass(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    await seed(conn)
    holder = await connect(pg_dsn)
    assert await holder.fetchval(LOCK_SQL, "ns.demo")
    database = Database(pg_dsn, 5.0)
    skipped = await apply_retention(database, "ns.demo", time.time(), RetentionPlan(7 * DAY))
    await holder.close()  # the session ends, the lock goes with it
    done = await apply_retention(database, "ns.demo", time.time(), RetentionPlan(7 * DAY))
    await database.close()
    await conn.close()
    assert (skipped, done) == (None, 30)


async def test_the_running_app_prunes_its_model(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    await seed(conn)
    settings = make_settings(dsn=pg_dsn, log_retention_seconds=7 * 86_400,
                             log_retention_interval_seconds=0.1)  # fmt: skip
    async with running_app(settings, make_loaded(make_model(), settings)):
        deadline = time.monotonic() + 10
        while (await count_by_model(conn))["ns.demo"] != 7:
            assert time.monotonic() < deadline, "old rows not deleted in time"
            await asyncio.sleep(0.1)
    assert (await count_by_model(conn))["ns.other"] == 11
    await conn.close()
