"""Database down at start and mid-run: rows keep serving, symbols fall back, drops are counted,
and everything recovers when PostgreSQL returns (real server stopped and started)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from levibot_devstack.services import PostgresServer
from tests.predictor.support.db import connect, insert_ticks, make_prices
from tests.predictor.support.models import make_loaded, make_model, make_settings, running_app

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
MODEL = make_model()
LABELS = {"model": "demo", "version": "v1", "track": "stable"}
ROW = {"rows": [dict.fromkeys(MODEL.features, 0.0)]}


async def eventually(check: Callable[[], object], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():  # type: ignore[misc]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_database_outage_at_start_and_mid_run(pg_server: PostgresServer, pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    await insert_ticks(conn, "BTCUSDT", int(time.time()) - 400, make_prices(400, seed=1))
    await conn.close()
    await asyncio.to_thread(pg_server.stop)
    settings = make_settings(dsn=pg_dsn, symbols=["BTCUSDT"], staleness_limit_seconds=600)
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        client = running.client

        async def symbol_reason() -> str | None:
            return (await client.post("/v1/predict/BTCUSDT")).json()["reason"]

        async def dropped() -> float:
            return running.metric("levibot_prediction_log_dropped_total", **LABELS) or 0.0

        # down at start
        rows = await client.post("/v1/predict", json=ROW)
        assert rows.status_code == 200
        assert rows.json()["fallback"] is False
        assert await symbol_reason() == "db_unavailable"
        await eventually(lambda: _gt(dropped, 0))
        # back up
        await asyncio.to_thread(pg_server.start)
        await eventually(lambda: _is(symbol_reason, None))
        written = running.app.state.service.log.written
        await client.post("/v1/predict", json=ROW)
        await eventually(lambda: _ready(running.app.state.service.log.written > written))
        # down mid-run
        await asyncio.to_thread(pg_server.stop)
        before = await dropped()
        rows = await client.post("/v1/predict", json=ROW)
        assert rows.status_code == 200
        await eventually(lambda: _is(symbol_reason, "db_unavailable"))
        await eventually(lambda: _gt(dropped, before))
        fallbacks = running.metric(
            "levibot_fallback_events_total", **LABELS, reason="db_unavailable"
        )
        assert fallbacks is not None
        assert fallbacks >= 2
        # and back again
        await asyncio.to_thread(pg_server.start)
        await eventually(lambda: _is(symbol_reason, None))
        health = await client.get("/readyz")
        assert health.status_code == 200


async def _gt(value: Callable[[], object], floor: float) -> bool:
    return await value() > floor  # type: ignore[misc, operator]


async def _is(value: Callable[[], object], expected: object) -> bool:
    return await value() == expected  # type: ignore[misc]


async def _ready(flag: bool) -> bool:
    return flag
