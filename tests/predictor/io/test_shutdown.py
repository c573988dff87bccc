"""Shutdown with a real PostgreSQL while the prediction log's COPY is in flight (held up by a
table lock): the writer is not cut in the middle of the COPY, and every prediction answered
before shutdown is in the log afterwards."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from tests.predictor.support.db import connect
from tests.predictor.support.models import (
    make_loaded,
    make_model,
    make_rows,
    make_settings,
    running_app,
)

pytestmark = [pytest.mark.postgres]
MODEL = make_model()
COPY_WAITING = """
SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%' AND wait_event_type = 'Lock'
"""


def body_for(count: int) -> dict[str, list[dict[str, float]]]:
    rows = make_rows(count, seed=count)
    return {"rows": [dict(zip(MODEL.features, map(float, r), strict=True)) for r in rows]}


async def wait_for_blocked_copy(conn: asyncpg.Connection) -> None:
    deadline = time.monotonic() + 10
    while not await conn.fetchval(COPY_WAITING):
        assert time.monotonic() < deadline, "the log writer never started its COPY"
        await asyncio.sleep(0.02)


async def release_later(conn: asyncpg.Connection, lock: asyncpg.transaction.Transaction) -> None:
    await asyncio.sleep(0.3)
    await lock.rollback()
    await conn.close()


async def test_shutdown_during_a_copy_logs_every_answered_prediction(pg_dsn: str) -> None:
    await (await connect(pg_dsn)).close()
    settings = make_settings(dsn=pg_dsn, log_flush_seconds=0.01, db_timeout_seconds=5.0)
    watcher, locker = await asyncpg.connect(pg_dsn), await asyncpg.connect(pg_dsn)
    lock = locker.transaction()
    await lock.start()
    await locker.execute("LOCK TABLE prediction_log IN SHARE MODE")
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        response = await running.client.post("/v1/predict", json=body_for(50))
        assert response.status_code == 200
        await wait_for_blocked_copy(watcher)
        release = asyncio.create_task(release_later(locker, lock))
    await release
    logged = await watcher.fetchval("SELECT count(*) FROM prediction_log")
    await watcher.close()
    assert logged == 50
