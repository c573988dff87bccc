"""Model-quality monitors (I/O shell over calibration.py and drift.py).

Outcomes: unresolved predictions of this version older than the horizon are joined with
``market_ticks`` (price at ts + horizon vs price at ts, last tick at or before each instant,
resolved only once a tick at or after ts + horizon exists); ``/v1/feedback`` sets outcomes by id.
The rolling window (newest ``outcome_window`` resolved rows of this version) is read back from
the log, so every replica of a version exports the same ECE/Brier/accuracy.
Drift: recent served feature rows (a ring buffer) against the version's reference sample.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import numpy as np
from numpy.typing import NDArray

from levibot_predictor.calibration import CalibrationReport, assess_calibration
from levibot_predictor.drift import DriftDetector, DriftReport

log = logging.getLogger(__name__)

RESOLVE_SQL = """
WITH due AS (
    SELECT id, symbol, ts, ts + make_interval(secs => horizon_seconds) AS target
    FROM prediction_log
    WHERE model_name = $1 AND version = $2 AND outcome IS NULL AND symbol <> ''
      AND ts + make_interval(secs => horizon_seconds) <= $3
    ORDER BY ts LIMIT $4
), priced AS (
    SELECT d.id,
        (SELECT price FROM market_ticks m WHERE m.symbol = d.symbol AND m.ts <= d.ts
         ORDER BY m.ts DESC LIMIT 1) AS p0,
        (SELECT price FROM market_ticks m WHERE m.symbol = d.symbol AND m.ts <= d.target
         ORDER BY m.ts DESC LIMIT 1) AS p1,
        EXISTS (SELECT 1 FROM market_ticks m WHERE m.symbol = d.symbol AND m.ts >= d.target)
            AS reached
    FROM due d
)
UPDATE prediction_log p
SET outcome = CASE WHEN pr.p1 > pr.p0 THEN 1 ELSE 0 END, resolved_at = $3
FROM priced pr
WHERE p.id = pr.id AND pr.reached AND pr.p0 IS NOT NULL AND pr.p1 IS NOT NULL
"""

WINDOW_SQL = """
SELECT p_up, outcome FROM prediction_log
WHERE model_name = $1 AND version = $2 AND outcome IS NOT NULL AND p_up IS NOT NULL
ORDER BY resolved_at DESC, id DESC LIMIT $3
"""

FEEDBACK_SQL = """
UPDATE prediction_log AS p SET outcome = f.outcome, resolved_at = $3
FROM unnest($1::bigint[], $2::smallint[]) AS f(id, outcome)
WHERE p.id = f.id
RETURNING p.id
"""


@dataclass(frozen=True)
class VersionKey:
    """Which rows of the prediction log belong to this predictor's version."""

    model_name: str
    version: str


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
    """ECE, Brier, accuracy of the newest ``window`` resolved predictions of this version."""
    rows = await conn.fetch(WINDOW_SQL, key.model_name, key.version, window)
    p_up = np.fromiter((r[0] for r in rows), dtype=np.float64, count=len(rows))
    outcome = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    return assess_calibration(p_up, outcome)


async def apply_feedback(
    conn: asyncpg.Connection, ids: Sequence[int], outcomes: Sequence[int], now: float
) -> set[int]:
    """Set explicit outcomes by prediction id; the ids that existed."""
    rows = await conn.fetch(
        FEEDBACK_SQL, list(ids), list(outcomes), datetime.fromtimestamp(now, UTC)
    )
    return {int(r[0]) for r in rows}


class RowWindow:
    """Ring buffer of the newest served feature rows (float64, fixed width)."""

    def __init__(self, capacity: int, width: int) -> None:
        self._rows = np.zeros((capacity, width), dtype=np.float64)
        self._next = 0
        self.count = 0

    def add(self, matrix: NDArray[np.float32]) -> None:
        """Append rows, overwriting the oldest (two slice copies at most, no index arrays)."""
        capacity = self._rows.shape[0]
        rows = matrix[-capacity:]
        n, start = rows.shape[0], self._next
        first = min(n, capacity - start)
        self._rows[start : start + first] = rows[:first]
        if first < n:
            self._rows[: n - first] = rows[first:]
        self._next = (start + n) % capacity
        self.count = min(self.count + n, capacity)

    def snapshot(self) -> NDArray[np.float64]:
        """The rows held, oldest first."""
        if self.count < self._rows.shape[0]:
            return self._rows[: self.count].copy()
        return np.concatenate([self._rows[self._next :], self._rows[: self._next]])


@dataclass(frozen=True)
class DriftReference:
    """The version's reference sample, columns in the model's feature order."""

    features: tuple[str, ...]
    rows: NDArray[np.float64]


def assess_drift(
    detector: DriftDetector, reference: DriftReference, window: RowWindow, min_rows: int
) -> DriftReport | None:
    """Drift of the served rows against the reference, None until enough rows were served."""
    if window.count < min_rows or reference.rows.shape[0] == 0:
        return None
    return detector.assess(reference.features, reference.rows, window.snapshot())
