"""Outcomes in the prediction log (predictor I/O): resolution, feedback, the calibration window.

Outcomes: unresolved predictions of this version older than the horizon are joined with
``market_ticks`` (price at ts + horizon vs price at ts, last tick at or before each instant,
resolved only once a tick at or after ts + horizon exists); the same UPDATE sets
``outcome_return``, the simple return ``p1 / p0 - 1`` that paper trading settles at
(``levibot_common.trading``). ``/v1/feedback`` sets outcomes by id (client rows have no price, so
no return).

What a client can do to these measures is bounded. Feedback sets the outcome only of this
model's rows without a symbol (client feature rows, which have no market to resolve them) whose
outcome is still unset: a symbol's prediction is resolved from market ticks alone, and an
outcome once set is never overwritten. A predictor that serves symbols measures calibration on
the market: client rows (and so feedback) never enter its window (``VersionKey.client_rows``).
The rolling window (newest ``outcome_window`` resolved samples of this version, one per symbol,
second and p_up: requests served from the same feature row are one market outcome) is read back
from the log, so every replica of a version exports the same ECE/Brier/accuracy.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import numpy as np

from levibot_predictor.core.calibration import CalibrationReport, assess_calibration

log = logging.getLogger(__name__)

# A prediction is due once ts + horizon has passed and the symbol has a tick at or after it
# (its newest tick, one index lookup per symbol); the prices are the last ticks at or before ts
# and ts + horizon (ordered index lookups). Every market_ticks access is an ordered lookup on
# (symbol, ts) on purpose: an EXISTS over "ts >= target" let the planner, once the tables had
# statistics, pick a sequential scan per prediction (the newest ticks sit at the heap's end),
# which took ~12 s for 4,000 due predictions over 6 h of ticks and timed the monitor out.
RESOLVE_SQL = """
WITH due AS (
    SELECT id, symbol, ts, ts + make_interval(secs => horizon_seconds) AS target
    FROM prediction_log
    WHERE model_name = $1 AND version = $2 AND outcome IS NULL AND symbol <> ''
      AND ts + make_interval(secs => horizon_seconds) <= $3
    ORDER BY ts LIMIT $4
), reach AS (
    SELECT s.symbol,
        (SELECT m.ts FROM market_ticks m WHERE m.symbol = s.symbol
         ORDER BY m.ts DESC LIMIT 1) AS last_ts
    FROM (SELECT DISTINCT symbol FROM due) s
), priced AS MATERIALIZED (
    SELECT d.id,
        (SELECT price FROM market_ticks m WHERE m.symbol = d.symbol AND m.ts <= d.ts
         ORDER BY m.ts DESC LIMIT 1) AS p0,
        (SELECT price FROM market_ticks m WHERE m.symbol = d.symbol AND m.ts <= d.target
         ORDER BY m.ts DESC LIMIT 1) AS p1
    FROM due d JOIN reach r ON r.symbol = d.symbol
    WHERE r.last_ts >= d.target
)
UPDATE prediction_log p
SET outcome = CASE WHEN pr.p1 > pr.p0 THEN 1 ELSE 0 END, resolved_at = $3,
    outcome_return = pr.p1 / NULLIF(pr.p0, 0) - 1
FROM priced pr
WHERE p.id = pr.id AND pr.p0 IS NOT NULL AND pr.p1 IS NOT NULL
"""

# The calibration window counts market outcomes, not requests: symbol predictions with the same
# symbol, second and p_up (every request served from one feature row) are one sample, as in the
# drift window; client rows (symbol '') each count. The newest WINDOW_SCAN_FACTOR x window
# resolved rows are read to find them (50 req/s on two symbols is ~25 copies per sample).
WINDOW_SCAN_FACTOR = 64
WINDOW_SQL = """
WITH recent AS (
    SELECT id, symbol, ts, p_up, outcome, resolved_at FROM prediction_log
    WHERE model_name = $1 AND version = $2 AND outcome IS NOT NULL AND p_up IS NOT NULL
      AND ($5 OR symbol <> '')
    ORDER BY resolved_at DESC, id DESC LIMIT $4
), samples AS (
    SELECT DISTINCT ON (symbol, date_trunc('second', ts), p_up,
                        CASE WHEN symbol = '' THEN id END)
        id, p_up, outcome, resolved_at
    FROM recent
    ORDER BY symbol, date_trunc('second', ts), p_up, CASE WHEN symbol = '' THEN id END, id
)
SELECT p_up, outcome FROM samples ORDER BY resolved_at DESC, id DESC LIMIT $3
"""

FEEDBACK_SQL = """
UPDATE prediction_log AS p SET outcome = f.outcome, resolved_at = $3
FROM unnest($1::bigint[], $2::smallint[]) AS f(id, outcome)
WHERE p.id = f.id AND p.model_name = $4 AND p.symbol = '' AND p.outcome IS NULL
RETURNING p.id
"""


@dataclass(frozen=True)
class VersionKey:
    """Which rows of the prediction log belong to this predictor's version; ``client_rows``:
    whether client feature rows count in its calibration window (False when it serves symbols)."""

    model_name: str
    version: str
    client_rows: bool = True


async def apply_resolution(
    conn: asyncpg.Connection, key: VersionKey, now: float, limit: int = 5000
) -> int:
    """Resolve due predictions from market ticks; the number resolved."""
    status = await conn.execute(
        RESOLVE_SQL, key.model_name, key.version, datetime.fromtimestamp(now, UTC), limit
    )
    return int(status.split()[-1])


async def fetch_calibration(
    conn: asyncpg.Connection, key: VersionKey, window: int
) -> CalibrationReport:
    """ECE, Brier, accuracy of the newest ``window`` resolved samples of this version."""
    rows = await conn.fetch(
        WINDOW_SQL,
        key.model_name,
        key.version,
        window,
        window * WINDOW_SCAN_FACTOR,
        key.client_rows,
    )
    p_up = np.fromiter((r[0] for r in rows), dtype=np.float64, count=len(rows))
    outcome = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    return assess_calibration(p_up, outcome)


async def apply_feedback(
    conn: asyncpg.Connection,
    model_name: str,
    ids: Sequence[int],
    outcomes: Sequence[int],
    now: float,
) -> set[int]:
    """Set explicit outcomes by prediction id (this model's unresolved client rows only); the
    ids that were set."""
    rows = await conn.fetch(
        FEEDBACK_SQL, list(ids), list(outcomes), datetime.fromtimestamp(now, UTC), model_name
    )
    return {int(r[0]) for r in rows}
