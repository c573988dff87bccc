"""What the prediction log retention costs (issue 12, item 10): delete rate and insert impact.

Starts a throwaway PostgreSQL 15, fills ``prediction_log`` with ROWS rows of one model that are
past the retention (plus as many recent rows of it and of another model), then measures:

1. the log's write path alone: COPY batches of 500 rows (what ``PredictionLog`` does), rows/s;
2. the same while one retention pass runs (``apply_retention``, batches of BATCH rows): the
   rows/s deleted, the insert rate meanwhile, and the slowest insert batch.

Usage: .venv/bin/python -m bench.predictor_retention [ROWS] [BATCH]   (default 300000 5000)

Measured (2 shared cores, PostgreSQL 15, 300,000 rows past retention, batches of 5,000): the
pass deleted 62,000 rows/s (a day at 30 req/s, 2.6 M rows, in ~42 s); 500-row COPY inserts
ran at 70,000 rows/s alone and 85,000 rows/s during the pass (noise), slowest COPY 20 -> 25 ms.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime

import asyncpg

from levibot_common.schema import apply_schema
from levibot_predictor.io.database import Database
from levibot_predictor.io.predlog import LOG_COLUMNS
from levibot_predictor.io.retention import RetentionPlan, apply_retention
from tests.support.services import fresh_database, postgres_server

DAY = 86_400.0
FEATURES = '{"ret_1m": 0.001, "ret_5m": 0.002, "vol_1m": 0.01, "vol_5m": 0.02, "rsi_14": 50.0}'


def build_rows(first: int, count: int, model: str, age: float) -> list[tuple[object, ...]]:
    ts = datetime.fromtimestamp(time.time() - age, UTC)
    return [(first + i, model, "v1", "stable", "BTCUSDT", ts, 0.5, "HOLD", False, FEATURES, 60)
            for i in range(count)]  # fmt: skip


async def fill(conn: asyncpg.Connection, rows: int) -> None:
    for model, age, base in (("ns.demo", 8 * DAY, 0), ("ns.demo", 1 * DAY, 10**8),
                             ("ns.other", 8 * DAY, 2 * 10**8)):  # fmt: skip
        for start in range(0, rows, 50_000):
            records = build_rows(base + start, min(50_000, rows - start), model, age)
            await conn.copy_records_to_table("prediction_log", records=records, columns=LOG_COLUMNS)
    await conn.execute("ANALYZE prediction_log")


async def insert_for(dsn: str, stop: asyncio.Event, first: int) -> tuple[int, float, float]:
    """COPY 500-row batches until ``stop``: rows written, seconds, slowest batch."""
    conn = await asyncpg.connect(dsn)
    written, slowest, started = 0, 0.0, time.perf_counter()
    while not stop.is_set():
        t0 = time.perf_counter()
        records = build_rows(first + written, 500, "ns.demo", 0.0)
        await conn.copy_records_to_table("prediction_log", records=records, columns=LOG_COLUMNS)
        slowest = max(slowest, time.perf_counter() - t0)
        written += 500
        await asyncio.sleep(0)
    await conn.close()
    return written, time.perf_counter() - started, slowest


async def measure(dsn: str, rows: int, batch: int) -> None:
    conn = await asyncpg.connect(dsn)
    await apply_schema(conn)
    await fill(conn, rows)
    await conn.close()
    stop = asyncio.Event()
    alone = asyncio.create_task(insert_for(dsn, stop, 3 * 10**8))
    await asyncio.sleep(5.0)
    stop.set()
    n, secs, slow = await alone
    print(f"inserts alone:           {n / secs:9.0f} rows/s, slowest COPY {slow * 1e3:6.1f} ms")
    stop = asyncio.Event()
    during = asyncio.create_task(insert_for(dsn, stop, 4 * 10**8))
    database = Database(dsn, 30.0)
    plan = RetentionPlan(7 * DAY, batch_rows=batch, max_batches=10**6)
    t0 = time.perf_counter()
    deleted = await apply_retention(database, "ns.demo", time.time(), plan)
    elapsed = time.perf_counter() - t0
    stop.set()
    n, secs, slow = await during
    await database.close()
    rate = (deleted or 0) / elapsed
    print(f"retention pass:          {deleted} rows in {elapsed:.2f} s = {rate:9.0f} rows/s "
          f"(batches of {batch})")  # fmt: skip
    print(f"inserts during the pass: {n / secs:9.0f} rows/s, slowest COPY {slow * 1e3:6.1f} ms")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    server_gen = postgres_server()
    server = next(server_gen)
    try:
        asyncio.run(measure(fresh_database(server), rows, batch))
    finally:
        server_gen.close()


if __name__ == "__main__":
    main()
