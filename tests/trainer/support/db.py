"""Helpers for the shared-package and trainer tests: connections and tick fixtures in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from levibot_common.schema import apply_schema
from levibot_common.seed import SeedSpec, load_history

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """T0 plus some seconds."""
    return T0 + timedelta(seconds=seconds)


async def connect_with_schema(dsn: str) -> asyncpg.Connection:
    """A connection to ``dsn`` with the schema applied."""
    conn = await asyncpg.connect(dsn)
    await apply_schema(conn)
    return conn


async def insert_ticks(
    conn: asyncpg.Connection, symbol: str, ticks: Sequence[tuple[float, float]]
) -> None:
    """Insert (seconds after T0, price) ticks for one symbol."""
    await conn.copy_records_to_table(
        "market_ticks",
        records=[(symbol, at(s), p, 1.0) for s, p in ticks],
        columns=("symbol", "ts", "price", "qty"),
    )


async def seed_ticks(
    conn: asyncpg.Connection,
    symbols: Sequence[str],
    *,
    end: datetime,
    seconds: int,
    seed: int,
    signal: float,
) -> int:
    """Load synthetic ticks ending at ``end``; returns how many."""
    specs = [SeedSpec(s, end.timestamp() - seconds, seconds, seed, signal=signal) for s in symbols]
    report = await load_history(conn, specs)
    return report.total
