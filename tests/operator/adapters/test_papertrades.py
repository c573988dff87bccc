"""The paper-trading adapter's SQL on a real PostgreSQL: the resolved BUY/SELL rows of one
version since an instant, one per symbol and second, oldest first; every resolved row's return for
the market's volatility (HOLD included); the training period's volatility from the registry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from levibot_operator.adapters.papertrades import (
    fetch_market_returns,
    fetch_signal_rows,
    fetch_training_std,
)
from tests.trainer.support.db import connect_with_schema

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
MODEL = "ns.paper"
LOG_SQL = """
INSERT INTO prediction_log (model_name, version, track, symbol, ts, p_up, signal,
    horizon_seconds, outcome, outcome_return)
VALUES ($1, $2, 'stable', $3, $4, 0.6, $5, 60, 1, $6)
"""


async def log(conn: asyncpg.Connection, *row: object) -> None:
    """(version, symbol, seconds after T0, signal, outcome_return)."""
    version, symbol, seconds, signal, ret = row
    ts = T0 + timedelta(seconds=float(str(seconds)))
    await conn.execute(LOG_SQL, MODEL, version, symbol, ts, signal, ret)


async def test_signal_rows_and_market_returns(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    try:
        await conn.execute("DELETE FROM prediction_log WHERE model_name = $1", MODEL)
        await log(conn, "v1", "BTC", 0.1, "BUY", 0.001)
        await log(conn, "v1", "BTC", 0.9, "SELL", 0.002)  # same symbol-second: dropped
        await log(conn, "v1", "ETH", 0.5, "SELL", -0.003)
        await log(conn, "v1", "BTC", 2.0, "HOLD", 0.004)  # opens nothing, but is the market
        await log(conn, "v1", "BTC", 3.0, "BUY", None)  # unresolved
        await log(conn, "v1", "", 4.0, "BUY", 0.005)  # a client's features: no market
        await log(conn, "v2", "BTC", 5.0, "BUY", 0.006)  # another version
        await log(conn, "v1", "BTC", -5.0, "BUY", 0.007)  # before `since`
        rows = await fetch_signal_rows(conn, MODEL, "v1", T0)
        market = await fetch_market_returns(conn, MODEL, "v1", T0)
    finally:
        await conn.close()
    assert [round(t - T0.timestamp(), 1) for t in rows.ts] == [0.1, 0.5]
    assert list(rows.signals) == ["BUY", "SELL"]
    assert list(rows.symbols) == ["BTC", "ETH"]
    assert list(rows.returns) == [0.001, -0.003]
    assert sorted(market) == [-0.003, 0.001, 0.004]


async def test_training_volatility_comes_from_the_backtest(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    insert = """
    INSERT INTO model_registry
        (model_name, version, status, reason, onnx, sha256, metadata, metrics)
    VALUES ($1, $2, 'active', '', '\\x00', $2, '{}', $3::jsonb) ON CONFLICT DO NOTHING
    """
    try:
        await conn.execute(
            insert, MODEL, "v7", json.dumps({"backtest": {"horizonReturnStd": 0.002}})
        )
        await conn.execute(insert, MODEL, "v8", json.dumps({"ece": 0.03}))
        assert await fetch_training_std(conn, MODEL, "v7") == 0.002
        assert await fetch_training_std(conn, MODEL, "v8") is None
        assert await fetch_training_std(conn, MODEL, "v9") is None
    finally:
        await conn.close()
