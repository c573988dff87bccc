"""Read one version's paper-trading input from the prediction log (issue 15, 4 and 5).

Layer: adapters. Every query is bounded, so a ModelDeployment's reconcile stays cheap however long
the log: by version and time (the ``(model_name, version, ts)`` index), one row per symbol and
second (requests served from one feature row are one market observation; the first logged wins),
and a row limit (the newest rows are kept). Only resolved BUY/SELL rows can open a paper trade
(``levibot_common.trading``), so only those are read for trades; the market's volatility reads
every resolved row of the version, HOLD included (the outcome resolver prices those too).
"""

from dataclasses import dataclass
from datetime import datetime

import asyncpg
import numpy as np
from numpy.typing import NDArray

from levibot_operator.adapters.predictionlog import fetch_registry_number
from levibot_operator.adapters.registry import RegistryUnavailableError

MAX_SIGNAL_ROWS = 200_000
MAX_MARKET_ROWS = 20_000

SIGNAL_ROWS_SQL = """
SELECT ts, symbol, signal, outcome_return FROM (
    SELECT DISTINCT ON (symbol, floor(extract(epoch FROM ts)))
        extract(epoch FROM ts)::double precision AS ts, symbol, signal, outcome_return
    FROM prediction_log
    WHERE model_name = $1 AND version = $2 AND ts >= $3 AND symbol <> ''
      AND signal IN ('BUY', 'SELL') AND outcome_return IS NOT NULL
    ORDER BY symbol, floor(extract(epoch FROM ts)), id
) AS rows
ORDER BY ts DESC LIMIT $4
"""

MARKET_RETURNS_SQL = """
SELECT outcome_return FROM (
    SELECT DISTINCT ON (symbol, floor(extract(epoch FROM ts))) ts, outcome_return
    FROM prediction_log
    WHERE model_name = $1 AND version = $2 AND ts >= $3 AND symbol <> ''
      AND outcome_return IS NOT NULL
    ORDER BY symbol, floor(extract(epoch FROM ts)), id
) AS rows
ORDER BY ts DESC LIMIT $4
"""

TRAINING_STD_SQL = """
SELECT metrics -> 'backtest' ->> 'horizonReturnStd' FROM model_registry
WHERE model_name = $1 AND version = $2
"""


@dataclass(frozen=True)
class SignalRows:
    """One version's resolved BUY/SELL rows, oldest first, for ``simulate_trades``."""

    ts: NDArray[np.float64]
    symbols: NDArray[np.object_]
    signals: NDArray[np.object_]
    returns: NDArray[np.float64]


def parse_signal_rows(rows: list[asyncpg.Record]) -> SignalRows:
    """The records as arrays, oldest first."""
    rows = sorted(rows, key=lambda r: float(r["ts"]))
    return SignalRows(
        ts=np.array([float(r["ts"]) for r in rows], dtype=np.float64),
        symbols=np.array([str(r["symbol"]) for r in rows], dtype=object),
        signals=np.array([str(r["signal"]) for r in rows], dtype=object),
        returns=np.array([float(r["outcome_return"]) for r in rows], dtype=np.float64),
    )


async def fetch_signal_rows(
    conn: asyncpg.Connection, model_name: str, version: str, since: datetime
) -> SignalRows:
    """The version's resolved BUY/SELL rows logged since ``since`` (none before the column)."""
    try:
        rows = await conn.fetch(SIGNAL_ROWS_SQL, model_name, version, since, MAX_SIGNAL_ROWS)
    except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError):
        rows = []
    return parse_signal_rows(list(rows))


async def fetch_market_returns(
    conn: asyncpg.Connection, model_name: str, version: str, since: datetime
) -> NDArray[np.float64]:
    """The horizon returns of every resolved row of the version since ``since``."""
    try:
        rows = await conn.fetch(MARKET_RETURNS_SQL, model_name, version, since, MAX_MARKET_ROWS)
    except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError):
        rows = []
    return np.array([float(r[0]) for r in rows], dtype=np.float64)


async def fetch_training_std(
    conn: asyncpg.Connection, model_name: str, version: str
) -> float | None:
    """The training period's horizon-return standard deviation (the trainer's backtest)."""
    return await fetch_registry_number(conn, TRAINING_STD_SQL, model_name, version, positive=True)


def translate_error(exc: BaseException) -> RegistryUnavailableError:
    """A database failure as the shell's one unavailable error."""
    return RegistryUnavailableError(f"prediction log: {type(exc).__name__}: {exc}")
