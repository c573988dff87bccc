"""1-second close prices from ``market_ticks`` (shared I/O shell over a pure fill step).

A second's close is the price of its last tick (``date_bin('1 second', ts, epoch)``). Seconds
without ticks carry the previous close forward: the series runs from the first second that has a
price (the last tick before ``start`` counts, so a quiet start is filled, never invented) through
the second of ``end``. Timestamps are int64 epoch seconds of each bin's start.

``fetch_closes`` reads one range at once (the predictor's few hundred seconds);
``iter_closes`` yields the same series in time chunks with bounded memory (the trainer).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np
from numpy.typing import NDArray

EpochArray = NDArray[np.int64]
PriceArray = NDArray[np.float64]
Closes = tuple[EpochArray, PriceArray]

DEFAULT_CHUNK_SECONDS = 6 * 3600

_CANDLES_SQL = """
SELECT DISTINCT ON (bin) extract(epoch FROM bin)::bigint AS second, price
FROM (
    SELECT date_bin('1 second', ts, timestamptz 'epoch') AS bin, ts, price
    FROM market_ticks
    WHERE symbol = $1 AND ts >= $2 AND ts < $3
) AS ticks
ORDER BY bin, ts DESC
"""

_CARRY_SQL = """
SELECT price FROM market_ticks WHERE symbol = $1 AND ts < $2 ORDER BY ts DESC LIMIT 1
"""


def build_filled_closes(
    seconds: Sequence[int] | EpochArray,
    prices: Sequence[float] | PriceArray,
    first: int,
    last: int,
    carry: float | None,
) -> Closes:
    """Forward-fill closes known at ``seconds`` over ``[first, last]`` (pure).

    ``carry`` is the close before ``first`` (None when there is none); seconds before the first
    known price are then omitted rather than invented.
    """
    known = np.asarray(seconds, dtype=np.int64)
    values = np.asarray(prices, dtype=np.float64)
    if carry is None and known.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    begin = first if carry is not None else max(first, int(known[0]))
    grid = np.arange(begin, last + 1, dtype=np.int64)
    source = np.searchsorted(known, grid, side="right") - 1
    if known.size == 0:
        filled = np.full(grid.size, carry, dtype=np.float64)
    elif carry is not None:
        filled = np.where(source >= 0, values[np.maximum(source, 0)], carry)
    else:
        filled = values[source]
    return grid, filled.astype(np.float64, copy=False)


def _floor_second(moment: datetime) -> int:
    return math.floor(moment.timestamp())


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"candles: timestamps must be timezone-aware, got {moment.isoformat()}")
    return moment.astimezone(UTC)


async def fetch_carry(conn: asyncpg.Connection, symbol: str, before: datetime) -> float | None:
    """The price of the last tick strictly before ``before``, if any."""
    value = await conn.fetchval(_CARRY_SQL, symbol, _as_utc(before))
    return None if value is None else float(value)


async def _fetch_bins(
    conn: asyncpg.Connection, symbol: str, first: int, last: int
) -> tuple[EpochArray, PriceArray]:
    lo = datetime.fromtimestamp(first, UTC)
    hi = datetime.fromtimestamp(last + 1, UTC)
    rows = await conn.fetch(_CANDLES_SQL, symbol, lo, hi)
    seconds = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    prices = np.fromiter((row[1] for row in rows), dtype=np.float64, count=len(rows))
    return seconds, prices


async def fetch_closes(
    conn: asyncpg.Connection, symbol: str, start: datetime, end: datetime
) -> Closes:
    """Forward-filled 1-second closes of ``symbol`` for the seconds of ``[start, end]``."""
    first, last = _floor_second(_as_utc(start)), _floor_second(_as_utc(end))
    if last < first:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    carry = await fetch_carry(conn, symbol, datetime.fromtimestamp(first, UTC))
    seconds, prices = await _fetch_bins(conn, symbol, first, last)
    return build_filled_closes(seconds, prices, first, last, carry)


async def iter_closes(
    conn: asyncpg.Connection,
    symbol: str,
    start: datetime,
    end: datetime,
    chunk_seconds: int = DEFAULT_CHUNK_SECONDS,
) -> AsyncIterator[Closes]:
    """The series of ``fetch_closes`` in consecutive chunks of at most ``chunk_seconds`` seconds;
    only one chunk of ticks is ever in memory. Concatenated, the chunks equal ``fetch_closes``."""
    if chunk_seconds <= 0:
        raise ValueError(f"chunk_seconds: must be positive, got {chunk_seconds}")
    first, last = _floor_second(_as_utc(start)), _floor_second(_as_utc(end))
    carry = await fetch_carry(conn, symbol, datetime.fromtimestamp(first, UTC))
    for lo in range(first, last + 1, chunk_seconds):
        hi = min(lo + chunk_seconds - 1, last)
        seconds, prices = await _fetch_bins(conn, symbol, lo, hi)
        grid, closes = build_filled_closes(seconds, prices, lo, hi, carry)
        if closes.size:
            carry = float(closes[-1])
            yield grid, closes


def seconds_to_datetime(second: int) -> datetime:
    """The UTC datetime of an epoch second (helper for callers mapping rows back to time)."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=int(second))
