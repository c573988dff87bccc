"""Market data for training (trainer I/O): connect with bounded retries, check, load.

Each symbol's window is first checked in SQL (tick count, invalid prices) so an empty table, a
missing symbol or NaN / non-positive prices fail fast with a message naming the symbol. Closes
are then streamed chunk by chunk (``iter_closes``): memory holds 1-second closes, never ticks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import numpy as np
from numpy.typing import NDArray

from levibot_common.candles import iter_closes
from levibot_trainer.errors import (
    BadConfigError,
    DatabaseUnreachableError,
    InsufficientDataError,
    InvalidDataError,
)

Sleep = Callable[[float], Awaitable[None]]

_TRANSIENT = (OSError, TimeoutError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError)
_REFUSED = (asyncpg.InvalidAuthorizationSpecificationError, asyncpg.InvalidCatalogNameError)

_STATS_SQL = """
SELECT count(*) AS ticks,
       count(*) FILTER (WHERE price = 'NaN' OR price <= 0 OR price = 'Infinity') AS invalid,
       min(ts) FILTER (WHERE price = 'NaN' OR price <= 0 OR price = 'Infinity') AS first_invalid
FROM market_ticks WHERE symbol = $1 AND ts >= $2 AND ts <= $3
"""


@dataclass(frozen=True)
class SymbolCloses:
    """One symbol's contiguous 1-second closes over the window."""

    symbol: str
    seconds: NDArray[np.int64]
    closes: NDArray[np.float64]


async def fetch_connection(
    dsn: str, attempts: int, first_delay: float, connect_timeout: float, sleep: Sleep
) -> asyncpg.Connection:
    """Connect, retrying transient failures with doubling delays; refusals fail at once."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            conn: asyncpg.Connection = await asyncpg.connect(dsn, timeout=connect_timeout)
        except _REFUSED as exc:
            raise DatabaseUnreachableError(f"dsn: the server refused us: {exc}") from exc
        except _TRANSIENT as exc:
            if attempt == attempts:
                raise DatabaseUnreachableError(
                    f"dsn: database unreachable after {attempts} attempts: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            await sleep(delay)
            delay *= 2
        except (ValueError, asyncpg.ClientConfigurationError) as exc:
            raise BadConfigError(f"dsn: not a valid PostgreSQL DSN: {exc}") from exc
        else:
            return conn
    raise DatabaseUnreachableError("dsn: no connection attempt was made")


async def fetch_checked_symbol(
    conn: asyncpg.Connection, symbol: str, start: datetime, end: datetime
) -> int:
    """The symbol's tick count in the window; raises when it has none or holds invalid prices."""
    row = await conn.fetchrow(_STATS_SQL, symbol, start, end)
    if row["ticks"] == 0:
        raise InsufficientDataError(
            f"symbols: no ticks for {symbol!r} in market_ticks between "
            f"{start.isoformat()} and {end.isoformat()}"
        )
    if row["invalid"]:
        raise InvalidDataError(
            f"market_ticks.price: {row['invalid']} ticks of {symbol!r} are NaN, infinite or "
            f"non-positive (first at {row['first_invalid'].isoformat()}); fix the data, "
            "nothing is imputed"
        )
    return int(row["ticks"])


async def fetch_symbol_closes(
    conn: asyncpg.Connection, symbol: str, start: datetime, end: datetime
) -> SymbolCloses:
    """The symbol's closes, streamed in chunks and joined (closes are 8 bytes a second)."""
    seconds: list[NDArray[np.int64]] = []
    closes: list[NDArray[np.float64]] = []
    async for chunk_seconds, chunk_closes in iter_closes(conn, symbol, start, end):
        seconds.append(chunk_seconds)
        closes.append(chunk_closes)
    if not closes:
        return SymbolCloses(symbol, np.empty(0, np.int64), np.empty(0, np.float64))
    return SymbolCloses(symbol, np.concatenate(seconds), np.concatenate(closes))


async def fetch_training_closes(
    conn: asyncpg.Connection, symbols: Sequence[str], start: datetime, end: datetime
) -> list[SymbolCloses]:
    """Checked closes for every symbol (all are checked before any is loaded)."""
    for symbol in symbols:
        await fetch_checked_symbol(conn, symbol, start, end)
    return [await fetch_symbol_closes(conn, symbol, start, end) for symbol in symbols]
