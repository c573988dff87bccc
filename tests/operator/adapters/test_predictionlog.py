"""The prediction-log adapter's SQL on a real PostgreSQL: paired rows deduplicated per symbol and
second, oriented (stable, candidate) whichever version served, and the stable's envelope."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from levibot_operator.adapters.predictionlog import (
    VersionPair,
    fetch_envelope,
    fetch_paired_rows,
)
from tests.trainer.support.db import connect_with_schema

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PAIR = VersionPair("ns.md", "v1", "v2")
LOG_SQL = """
INSERT INTO prediction_log (model_name, version, track, symbol, ts, p_up, signal,
    horizon_seconds, outcome, shadow_version, shadow_p_up, shadow_signal)
VALUES ($1, $2, $3, $4, $5, $6, 'hold', 60, $7, $8, $9, 'hold')
"""


async def log(conn: asyncpg.Connection, *row: object) -> None:
    """(version, symbol, seconds after T0, p_up, outcome, shadow_version, shadow_p_up)."""
    version, symbol, seconds, p_up, outcome, shadow, shadow_p = row
    track = "stable" if version == "v1" else "canary"
    ts = T0 + timedelta(seconds=float(str(seconds)))
    await conn.execute(
        LOG_SQL, "ns.md", version, track, symbol, ts, p_up, outcome, shadow, shadow_p
    )


async def test_paired_rows_are_deduplicated_and_oriented(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    try:
        await log(conn, "v1", "BTC", 0.1, 0.60, 1, "v2", 0.70)  # stable served
        await log(conn, "v1", "BTC", 0.9, 0.61, 1, "v2", 0.71)  # same symbol-second: dropped
        await log(conn, "v2", "ETH", 0.5, 0.30, None, "v1", 0.20)  # candidate served
        await log(conn, "v2", "BTC", 1.2, 0.80, 0, "v1", 0.50)  # next second
        await log(conn, "v1", "BTC", 2.0, 0.55, 1, None, None)  # not scored in shadow
        await log(conn, "v1", "BTC", 3.0, 0.55, 1, "v3", 0.4)  # another pair
        await log(conn, "v9", "BTC", 4.0, 0.55, 1, "v2", 0.4)  # another pair
        await log(conn, "v1", "BTC", -5.0, 0.55, 1, "v2", 0.4)  # before the run
        await log(conn, "v1", "BTC", 60.0, 0.55, 1, "v2", 0.4)  # not yet (until)
        await log(conn, "v1", "", 7.0, 0.55, None, "v2", 0.4)  # a client's features: no outcome
        rows = await fetch_paired_rows(conn, PAIR, T0, T0 + timedelta(seconds=60))
    finally:
        await conn.close()
    start = T0.timestamp()
    assert [round(t - start, 1) for t in rows.ts] == [0.1, 0.5, 1.2]
    assert list(rows.p_stable) == [0.60, 0.20, 0.50]
    assert list(rows.p_candidate) == [0.70, 0.30, 0.80]
    assert rows.outcome[0] == 1.0
    assert math.isnan(rows.outcome[1])
    assert rows.outcome[2] == 0.0


async def test_no_rows_and_no_columns_read_as_empty(pg_dsn: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        empty = await fetch_paired_rows(conn, PAIR, T0, T0 + timedelta(hours=1))
        assert await fetch_envelope(conn, "ns.md", "v1") is None
    finally:
        await conn.close()
    assert len(empty.ts) == len(empty.outcome) == 0


async def test_the_envelope_is_the_stable_versions_metric(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    insert = (
        "INSERT INTO model_registry (model_name, version, onnx, sha256, metrics) "
        "VALUES ('ns.md', $1, '\\x00', 'x', $2::jsonb)"
    )
    try:
        await conn.execute(insert, "v1", json.dumps({"envelope_rms": 0.021, "auc": 0.6}))
        await conn.execute(insert, "v2", json.dumps({"auc": 0.6}))
        await conn.execute(insert, "v3", json.dumps({"envelope_rms": "junk"}))
        found = [await fetch_envelope(conn, "ns.md", v) for v in ("v1", "v2", "v3", "v4")]
    finally:
        await conn.close()
    assert found == [0.021, None, None, None]


async def test_paired_rows_carry_both_signals_and_the_return(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    insert = """
    INSERT INTO prediction_log (model_name, version, track, symbol, ts, p_up, signal,
        horizon_seconds, outcome, outcome_return, shadow_version, shadow_p_up, shadow_signal)
    VALUES ('ns.md', $1, 'stable', $2, $3, 0.6, $4, 60, $5, $6, $7, 0.4, $8)
    """
    try:
        await conn.execute(insert, "v1", "BTC", T0, "BUY", 1, 0.002, "v2", "SELL")
        await conn.execute(insert, "v2", "ETH", T0 + timedelta(seconds=1), "HOLD", None, None,
                           "v1", "BUY")  # fmt: skip
        await conn.execute(insert, "v1", "BTC", T0 + timedelta(seconds=2), "BUY", 0, -0.001,
                           "v2", None)  # fmt: skip
        rows = await fetch_paired_rows(conn, PAIR, T0, T0 + timedelta(seconds=60))
    finally:
        await conn.close()
    trading = rows.trading
    assert trading is not None
    assert list(trading.side_stable) == [1.0, 1.0, 1.0]
    assert trading.side_candidate[:2].tolist() == [-1.0, 0.0]
    assert math.isnan(trading.side_candidate[2])  # no shadow signal logged
    assert trading.outcome_return[0] == 0.002
    assert math.isnan(trading.outcome_return[1])
    assert list(trading.symbol) == ["BTC", "ETH", "BTC"]


async def test_a_log_without_returns_is_read_without_trading_columns(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    try:
        await conn.execute("ALTER TABLE prediction_log DROP COLUMN outcome_return")
        await log(conn, "v1", "BTC", 0.1, 0.60, 1, "v2", 0.70)
        rows = await fetch_paired_rows(conn, PAIR, T0, T0 + timedelta(seconds=60))
    finally:
        await conn.close()
    assert list(rows.p_candidate) == [0.70]
    assert rows.trading is None
