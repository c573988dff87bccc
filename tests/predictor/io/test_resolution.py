"""Outcome resolution at serving scale, against a real PostgreSQL (issue 5).

On the local stack ``levibot_resolved_predictions`` stayed 0: once PostgreSQL had statistics
for 6 h of ticks, the resolver's ``EXISTS (... ts >= target)`` became a sequential scan of
``market_ticks`` per due prediction (the newest ticks are at the end of the heap), ~12 s for
4,000 predictions, so every monitor pass hit the 2-s database timeout. These tests drive the
clock and the ticks: 6 h of history, a minute of predictions at 50 req/s over two symbols, the
feed continuing past t + horizon; one pass must resolve them all.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg
import numpy as np
import pytest

from levibot_predictor.io.database import Database
from levibot_predictor.io.outcomes import (
    RESOLVE_SQL,
    VersionKey,
    apply_resolution,
    fetch_calibration,
)
from tests.predictor.support.db import connect, insert_ticks, make_prices

pytestmark = pytest.mark.postgres
KEY = VersionKey("ns.demo", "v1")
SYMBOLS = ("BTCUSDT", "ETHUSDT")
HORIZON = 60
HISTORY = 6 * 3600
T0 = 1_800_000_000  # predictions are made in [T0, T0 + 60)
MONITOR_INTERVAL = 15.0  # the predictor's default
PER_SECOND = 25  # requests per second per symbol


async def seed_market(conn: asyncpg.Connection, until: int) -> dict[str, np.ndarray]:
    """Ticks (one per second, at +0.5 s) from T0 - HISTORY to ``until`` for both symbols."""
    prices = {}
    for i, symbol in enumerate(SYMBOLS):
        prices[symbol] = make_prices(HISTORY + 200, seed=i, start=100.0 * (i + 1))
        await insert_ticks(conn, symbol, T0 - HISTORY, prices[symbol][: until - T0 + HISTORY])
    return prices


async def log_predictions(conn: asyncpg.Connection) -> None:
    """A minute of symbol predictions at 50 req/s."""
    records = [
        (n, KEY.model_name, KEY.version, "stable", symbol,
         datetime.fromtimestamp(T0 + k / PER_SECOND, UTC), 0.5, "HOLD", False, HORIZON)
        for n, (k, symbol) in enumerate(
            ((k, s) for k in range(60 * PER_SECOND) for s in SYMBOLS), start=1)
    ]  # fmt: skip
    await conn.copy_records_to_table("prediction_log", records=records, columns=(
        "id", "model_name", "version", "track", "symbol", "ts", "p_up", "signal", "fallback",
        "horizon_seconds"))  # fmt: skip


async def resolve(dsn: str, now: float) -> int:
    """One monitor pass's resolution, through the predictor's pool and timeout (2 s)."""
    database = Database(dsn, timeout=2.0)
    try:
        async with database.connection() as conn:
            return await apply_resolution(conn, KEY, now)
    finally:
        await database.close()


async def test_a_minute_of_predictions_resolves_in_one_pass_after_the_horizon(
    pg_dsn: str,
) -> None:
    conn = await connect(pg_dsn)
    prices = await seed_market(conn, until=T0 + 31)  # the feed has reached T0 + 30.5
    await log_predictions(conn)
    await conn.execute("ANALYZE")  # what autovacuum does on a live system
    # due by the clock, but no tick at or after ts + horizon yet: nothing resolves
    assert await resolve(pg_dsn, now=T0 + 90.9) == 0
    for symbol in SYMBOLS:  # the feed goes on past every t + horizon
        await insert_ticks(conn, symbol, T0 + 31, prices[symbol][HISTORY + 31 : HISTORY + 140])
    last_target = T0 + 60 + HORIZON
    assert await resolve(pg_dsn, now=last_target + MONITOR_INTERVAL) == 2 * 60 * PER_SECOND
    row = await conn.fetchrow("SELECT ts, symbol, outcome FROM prediction_log WHERE id = 2000")
    second = int(row["ts"].timestamp() - 0.5) - (T0 - HISTORY)  # last tick at or before ts
    series = prices[row["symbol"]]
    assert row["outcome"] == int(series[second + HORIZON] > series[second])
    await conn.close()


async def test_the_resolver_never_scans_market_ticks_sequentially(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    await seed_market(conn, until=T0 + 140)
    await log_predictions(conn)
    await conn.execute("ANALYZE")
    now = datetime.fromtimestamp(T0 + 135, UTC)
    plan = await conn.fetchval(
        "EXPLAIN (FORMAT JSON) " + RESOLVE_SQL, KEY.model_name, KEY.version, now, 5000
    )
    nodes = list(walk_plan(json.loads(plan)[0]["Plan"]))
    scans = {(str(n["Node Type"]), str(n.get("Relation Name"))) for n in nodes}
    assert ("Seq Scan", "market_ticks") not in scans
    assert any(rel == "market_ticks" and "Index" in kind for kind, rel in scans)
    await conn.close()


async def test_the_calibration_window_counts_market_outcomes_not_requests(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    prices = await seed_market(conn, until=T0 + 140)
    await log_predictions(conn)  # 25 requests per symbol and second, same p_up each second
    await conn.execute(  # one client row in the same second: counts on its own
        "INSERT INTO prediction_log (id, model_name, version, track, symbol, ts, p_up, signal,"
        " horizon_seconds, outcome, resolved_at) VALUES (99999, $1, $2, 'stable', '', $3, 0.9,"
        " 'BUY', 60, 1, $3)", KEY.model_name, KEY.version, datetime.fromtimestamp(T0, UTC),
    )  # fmt: skip
    assert await resolve(pg_dsn, now=T0 + 135) == 2 * 60 * PER_SECOND
    database = Database(pg_dsn, timeout=2.0)
    async with database.connection() as db:
        report = await fetch_calibration(db, KEY, window=1000)
    await database.close()
    assert report.count == 2 * 60 + 1  # one sample per (symbol, second), plus the client row
    outcomes = [int(prices[s][HISTORY + k + HORIZON] > prices[s][HISTORY + k])
                for s in SYMBOLS for k in range(60)]  # fmt: skip
    # every symbol sample has p_up 0.5: |0.5 - mean(outcome)| in one bin, the client row alone
    expected = abs(0.5 - np.mean(outcomes)) * 120 / 121 + 0.1 / 121
    assert report.ece == pytest.approx(expected, abs=1e-9)
    await conn.close()


def walk_plan(node: dict[str, object]) -> list[dict[str, object]]:
    """Every node of an EXPLAIN (FORMAT JSON) plan."""
    children = node.get("Plans", [])
    assert isinstance(children, list)
    return [node, *(n for child in children for n in walk_plan(child))]
