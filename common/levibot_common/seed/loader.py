"""Loading synthetic ticks into ``market_ticks`` (shared I/O shell): bulk COPY and a live mode.

``load_history`` COPYs ``hours`` of generated ticks ending at ``end`` for each symbol.
``run_live`` then keeps appending, each second, the ticks whose time has come; time and sleep are
passed in so tests can drive it. Blocks are generated ``LIVE_BLOCK_SECONDS`` at a time, each
continuing from the last stored price, deterministic by (seed, symbol, block).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import asyncpg
import numpy as np

from levibot_common.candles import fetch_carry
from levibot_common.seed.generator import SeedSpec, TickBatch, build_ticks

LIVE_BLOCK_SECONDS = 600
COPY_CHUNK_ROWS = 200_000
_EPOCH_US = np.datetime64("1970-01-01T00:00:00", "us")


@dataclass(frozen=True)
class LoadReport:
    """What a load wrote: ticks per symbol."""

    ticks: dict[str, int]

    @property
    def total(self) -> int:
        """All ticks written."""
        return sum(self.ticks.values())


def build_records(batch: TickBatch, lo: int, hi: int) -> list[tuple[str, datetime, float, float]]:
    """COPY records for ticks ``lo:hi`` (timezone-aware UTC timestamps, microsecond precision)."""
    micros = np.round(batch.epoch[lo:hi] * 1e6).astype(np.int64)
    naive = (_EPOCH_US + micros.astype("timedelta64[us]")).tolist()
    return [
        (batch.symbol, moment.replace(tzinfo=UTC), price, qty)
        for moment, price, qty in zip(
            naive, batch.price[lo:hi].tolist(), batch.qty[lo:hi].tolist(), strict=True
        )
    ]


async def apply_ticks(conn: asyncpg.Connection, batch: TickBatch) -> int:
    """COPY one batch into ``market_ticks`` in bounded chunks; returns the rows written."""
    size = int(batch.epoch.size)
    for lo in range(0, size, COPY_CHUNK_ROWS):
        records = build_records(batch, lo, min(lo + COPY_CHUNK_ROWS, size))
        await conn.copy_records_to_table(
            "market_ticks", records=records, columns=("symbol", "ts", "price", "qty")
        )
    return size


async def load_history(conn: asyncpg.Connection, specs: list[SeedSpec]) -> LoadReport:
    """Generate and COPY every spec's ticks."""
    written: dict[str, int] = {}
    for spec in specs:
        written[spec.symbol] = written.get(spec.symbol, 0) + await apply_ticks(
            conn, build_ticks(spec)
        )
    return LoadReport(written)


def build_due(batch: TickBatch, sent: int, now_epoch: float) -> int:
    """Index one past the last tick of ``batch`` whose time is not after ``now_epoch``."""
    return max(sent, int(np.searchsorted(batch.epoch, now_epoch, side="right")))


def build_slice(batch: TickBatch, lo: int, hi: int) -> TickBatch:
    """Ticks ``lo:hi`` of a batch."""
    return TickBatch(batch.symbol, batch.epoch[lo:hi], batch.price[lo:hi], batch.qty[lo:hi])


async def _next_block(conn: asyncpg.Connection, spec: SeedSpec, block: int) -> TickBatch:
    start_epoch = spec.start_epoch + block * LIVE_BLOCK_SECONDS
    last = await fetch_carry(conn, spec.symbol, datetime.fromtimestamp(start_epoch, UTC))
    block_spec = replace(
        spec, start_epoch=start_epoch, seconds=LIVE_BLOCK_SECONDS, block=block + 1, start_price=last
    )
    return build_ticks(block_spec)


async def run_live(
    conn: asyncpg.Connection,
    specs: list[SeedSpec],
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    max_seconds: float | None = None,
) -> LoadReport:
    """Append ticks as their time comes, every second, until ``max_seconds`` (None: forever).
    Each spec's ``start_epoch`` is where live data begins (normally the end of the history)."""
    written = dict.fromkeys((s.symbol for s in specs), 0)
    state = {s.symbol: (0, await _next_block(conn, s, 0), 0) for s in specs}
    began = clock()
    while max_seconds is None or clock() - began < max_seconds:
        now = clock()
        for spec in specs:
            block, batch, sent = state[spec.symbol]
            due = build_due(batch, sent, now)
            written[spec.symbol] += await apply_ticks(conn, build_slice(batch, sent, due))
            block_end = spec.start_epoch + (block + 1) * LIVE_BLOCK_SECONDS
            if due >= batch.epoch.size and now >= block_end:
                block, batch, due = block + 1, await _next_block(conn, spec, block + 1), 0
            state[spec.symbol] = (block, batch, due)
        await sleep(1.0)
    return LoadReport(written)
