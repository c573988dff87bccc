"""Feature cache for the symbol endpoint (predictor I/O over pure merge/assess steps).

A background task refreshes, per symbol, a rolling buffer of 1-second closes from PostgreSQL at
tick cadence — incrementally, only the seconds since the buffer's last one — and keeps the latest
feature row (computed with levibot_common, as the trainer does). Requests only read ``state``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import asyncpg
import numpy as np
from numpy.typing import NDArray

from levibot_common.candles import fetch_closes
from levibot_common.features import LOOKBACK_SECONDS, latest_features
from levibot_predictor.core.policy import MarketState
from levibot_predictor.io.database import Database, DatabaseUnavailableError

log = logging.getLogger(__name__)

_SUMMARY_SQL = """
SELECT (SELECT max(ts) FROM market_ticks WHERE symbol = $1),
       (SELECT count(*) FROM market_ticks WHERE symbol = $1 AND ts > $2)
"""


@dataclass(frozen=True)
class CloseBuffer:
    """The newest 1-second closes of one symbol (epoch seconds, oldest first)."""

    seconds: NDArray[np.int64]
    closes: NDArray[np.float64]


EMPTY = CloseBuffer(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))


def build_merged_buffer(old: CloseBuffer, new: CloseBuffer, keep: int) -> CloseBuffer:
    """``new`` overrides ``old`` from its first second on; the newest ``keep`` seconds remain.
    A gap between them (``new`` starts after ``old`` ends + 1) discards ``old``."""
    if new.seconds.size == 0:
        return old
    first = int(new.seconds[0])
    if old.seconds.size and first > int(old.seconds[-1]) + 1:
        old = EMPTY
    cut = int(np.searchsorted(old.seconds, first, side="left"))
    seconds = np.concatenate([old.seconds[:cut], new.seconds])[-keep:]
    closes = np.concatenate([old.closes[:cut], new.closes])[-keep:]
    return CloseBuffer(seconds, closes)


def plan_fetch_start(buffer: CloseBuffer, last_tick_second: int) -> int:
    """First second to fetch: the buffer's last (its close may have changed), or a full window."""
    window_start = last_tick_second - LOOKBACK_SECONDS + 1
    if buffer.seconds.size == 0:
        return window_start
    return max(int(buffer.seconds[-1]), window_start)


class SymbolCache:
    """Market state of one symbol, replaced as a whole on each refresh."""

    def __init__(self, symbol: str, model_features: tuple[str, ...]) -> None:
        self.symbol = symbol
        names = build_cache_names(model_features)
        self._names = names
        self._n_model = len(model_features)
        self._zscore_col = names.index("zscore_60")
        self.buffer = EMPTY
        self.state = MarketState(None, None, None, db_ok=False)
        self.ticks_per_minute: int | None = None

    async def refresh(self, conn: asyncpg.Connection, now: float) -> None:
        """Read what is new since the last refresh and recompute the features."""
        minute_ago = datetime.fromtimestamp(now - 60.0, UTC)
        last_ts, ticks = await conn.fetchrow(_SUMMARY_SQL, self.symbol, minute_ago)
        self.ticks_per_minute = int(ticks)
        if last_ts is None:
            self.state = MarketState(None, None, None, db_ok=True)
            return
        last_tick = float(last_ts.timestamp())
        if last_tick != self.state.last_tick or self.state.features is None:
            await self._extend(conn, last_ts)
        self.state = replace(self._assess(), last_tick=last_tick, db_ok=True)

    async def _extend(self, conn: asyncpg.Connection, last_ts: datetime) -> None:
        start = plan_fetch_start(self.buffer, int(last_ts.timestamp()))
        seconds, closes = await fetch_closes(
            conn, self.symbol, datetime.fromtimestamp(start, UTC), last_ts
        )
        self.buffer = build_merged_buffer(
            self.buffer, CloseBuffer(seconds, closes), LOOKBACK_SECONDS
        )

    def _assess(self) -> MarketState:
        row = latest_features(self.buffer.closes, self._names)
        if row is None:
            return MarketState(None, None, None, db_ok=True)
        model_part = tuple(float(v) for v in row[: self._n_model])
        return MarketState(model_part, float(row[self._zscore_col]), None, db_ok=True)

    def mark_db_down(self) -> None:
        """Keep the buffer, but say the database cannot be trusted right now."""
        self.state = replace(self.state, db_ok=False)


def build_cache_names(model_features: tuple[str, ...]) -> tuple[str, ...]:
    """The model's features, then zscore_60 if absent (always computed for the fallback)."""
    if "zscore_60" in model_features:
        return model_features
    return (*model_features, "zscore_60")


class MarketCache:
    """All served symbols; ``refresh_all`` is one tick of the background task."""

    def __init__(self, symbols: list[str], model_features: tuple[str, ...]) -> None:
        self.symbols = {symbol: SymbolCache(symbol, model_features) for symbol in symbols}

    async def refresh_all(self, database: Database | None, now: float) -> None:
        """Refresh every symbol over one connection; on failure mark all as db-down."""
        if database is None or not self.symbols:
            return
        try:
            async with database.connection() as conn:
                for cache in self.symbols.values():
                    await cache.refresh(conn, now)
        except DatabaseUnavailableError as exc:
            log.warning("feature cache: database unavailable: %s", exc)
            for cache in self.symbols.values():
                cache.mark_db_down()
