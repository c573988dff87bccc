"""The resolver's ``outcome_return`` (issue 15), against a real PostgreSQL.

Paper trading settles each position at the horizon's simple return, ``p1 / p0 - 1``: the resolver
must write it in the same UPDATE as ``outcome`` (so the two always agree), leave it NULL until the
row resolves, and the schema must add the column to a log created before it existed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import numpy as np
import pytest

from levibot_common.schema import apply_schema
from levibot_predictor.io.outcomes import VersionKey, apply_resolution
from tests.predictor.support.db import connect, insert_ticks, make_prices

pytestmark = pytest.mark.postgres
KEY = VersionKey("ns.demo", "v1")
HORIZON = 30
T0 = 1_800_000_000


async def log_rows(conn: asyncpg.Connection, offsets: list[float]) -> None:
    """One BTCUSDT prediction of KEY at ``T0 + offset`` per offset (ids from 1)."""
    records = [
        (i + 1, KEY.model_name, KEY.version, "stable", "BTCUSDT",
         datetime.fromtimestamp(T0 + o, UTC), 0.5, "BUY", False, HORIZON)
        for i, o in enumerate(offsets)
    ]  # fmt: skip
    await conn.copy_records_to_table("prediction_log", records=records, columns=(
        "id", "model_name", "version", "track", "symbol", "ts", "p_up", "signal", "fallback",
        "horizon_seconds"))  # fmt: skip


async def test_resolution_writes_the_horizon_return_with_the_outcome(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    prices = make_prices(200, seed=5)
    await insert_ticks(conn, "BTCUSDT", T0, prices)  # tick i at T0 + i + 0.5
    offsets = [0.7 + k for k in range(0, 150, 7)]  # the last tick at or before is tick k
    await log_rows(conn, [*offsets, 190.7])  # the last row's horizon has no tick yet
    assert await apply_resolution(conn, KEY, now=T0 + 500) == len(offsets)
    rows = await conn.fetch("SELECT id, outcome, outcome_return FROM prediction_log ORDER BY id")
    for row, offset in zip(rows, offsets, strict=False):
        k = int(offset)
        assert row["outcome_return"] == pytest.approx(
            prices[k + HORIZON] / prices[k] - 1, abs=1e-15
        )
        assert row["outcome"] == int(row["outcome_return"] > 0)
    assert rows[-1]["outcome"] is None
    assert rows[-1]["outcome_return"] is None
    await conn.close()


async def test_a_flat_price_resolves_to_a_zero_return_and_outcome_down(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    await insert_ticks(conn, "BTCUSDT", T0, np.full(100, 250.0))
    await log_rows(conn, [10.2])
    assert await apply_resolution(conn, KEY, now=T0 + 100) == 1
    row = await conn.fetchrow("SELECT outcome, outcome_return FROM prediction_log")
    assert (row["outcome"], row["outcome_return"]) == (0, 0.0)
    await conn.close()


async def test_the_schema_adds_outcome_return_to_an_older_log(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    await log_rows(conn, [1.0])
    await conn.execute("ALTER TABLE prediction_log DROP COLUMN outcome_return")
    await apply_schema(conn)  # as a predictor of this release starts on an older database
    await apply_schema(conn)  # and again: nothing to do
    kind = await conn.fetchval(
        "SELECT data_type FROM information_schema.columns"
        " WHERE table_name = 'prediction_log' AND column_name = 'outcome_return'"
    )
    assert kind == "double precision"
    assert await conn.fetchval("SELECT outcome_return FROM prediction_log WHERE id = 1") is None
    await conn.close()
