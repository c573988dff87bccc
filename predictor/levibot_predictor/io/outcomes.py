"""Model-quality monitors (I/O shell over calibration.py and drift.py).

Outcomes: unresolved predictions of this version older than the horizon are joined with
``market_ticks`` (price at ts + horizon vs price at ts, last tick at or before each instant,
resolved only once a tick at or after ts + horizon exists); ``/v1/feedback`` sets outcomes by id.
The rolling window (newest ``outcome_window`` resolved samples of this version, one per symbol,
second and p_up: requests served from the same feature row are one market outcome) is read back
from the log, so every replica of a version exports the same ECE/Brier/accuracy.
Drift: the recent market seen by served predictions against the version's reference sample.
The window holds at most one row per (symbol, feature second) for the symbol endpoint, however
many requests served it (drift is about the market, not the traffic), and client rows as they
come; it is bounded by count (``DRIFT_WINDOW``) and by time (``DRIFT_WINDOW_SECONDS``). Below
``DRIFT_MIN_ROWS`` thinned rows nothing is exported: the monitor *removes* the PSI/KS series
(absent, not NaN), which alert rules never match and canary analysis reads as inconclusive.
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
from levibot_predictor.drift import (
    FEATURE_SPAN_SECONDS,
    DriftDetector,
    DriftReport,
    plan_thinning,
)

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
SET outcome = CASE WHEN pr.p1 > pr.p0 THEN 1 ELSE 0 END, resolved_at = $3
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
    """ECE, Brier, accuracy of the newest ``window`` resolved samples of this version."""
    rows = await conn.fetch(
        WINDOW_SQL, key.model_name, key.version, window, window * WINDOW_SCAN_FACTOR
    )
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


CLIENT_GROUP = 0  # rows sent by clients (/v1/predict): no market timestamp, never thinned


@dataclass(frozen=True)
class WindowSample:
    """The window's rows inside the time bound, oldest first: each row's time (the feature
    second for market rows, the serving time for client rows) and group (0 client, >0 symbol)."""

    rows: NDArray[np.float64]
    times: NDArray[np.float64]
    groups: NDArray[np.int32]


class RowWindow:
    """The recent market seen by the served predictions: a ring buffer (``capacity`` rows)
    of which ``select`` keeps the last ``window_seconds``. Symbol rows are deduplicated: at
    most one row per (symbol, feature second), however many requests served it."""

    def __init__(self, capacity: int, width: int, window_seconds: float = 1800.0) -> None:
        self._rows = np.zeros((capacity, width), dtype=np.float64)
        self._times = np.zeros(capacity, dtype=np.float64)
        self._groups = np.zeros(capacity, dtype=np.int32)
        self._next = 0
        self.count = 0
        self.window_seconds = window_seconds
        self._symbol_groups: dict[str, int] = {}
        self._last_second: dict[str, int] = {}

    def add(self, matrix: NDArray[np.float32], now: float) -> None:
        """Append client rows served at ``now``, overwriting the oldest."""
        self._append(matrix, now, CLIENT_GROUP)

    def add_symbol(self, symbol: str, second: int, matrix: NDArray[np.float32]) -> bool:
        """Append the feature row of ``symbol`` at ``second`` unless that second (or a later
        one) is already held; whether it was added."""
        if second <= self._last_second.get(symbol, -1):
            return False
        self._last_second[symbol] = second
        group = self._symbol_groups.setdefault(symbol, len(self._symbol_groups) + 1)
        self._append(matrix, float(second), group)
        return True

    def _append(self, matrix: NDArray[np.float32], time: float, group: int) -> None:
        """Two slice copies at most, no index arrays."""
        capacity = self._rows.shape[0]
        rows = matrix[-capacity:]
        n, start = rows.shape[0], self._next
        first = min(n, capacity - start)
        for target, source in ((slice(start, start + first), slice(0, first)),
                               (slice(0, n - first), slice(first, n))):  # fmt: skip
            self._rows[target] = rows[source]
            self._times[target] = time
            self._groups[target] = group
        self._next = (start + n) % capacity
        self.count = min(self.count + n, capacity)

    def _ordered(self, values: NDArray[np.generic]) -> NDArray[np.generic]:
        if self.count < values.shape[0]:
            return values[: self.count].copy()
        return np.concatenate([values[self._next :], values[: self._next]])

    def snapshot(self) -> NDArray[np.float64]:
        """Every row held, oldest first (no time bound)."""
        return self._ordered(self._rows).astype(np.float64, copy=False)

    def select(self, now: float) -> WindowSample:
        """The rows of the last ``window_seconds`` before ``now``, oldest first."""
        times = self._ordered(self._times).astype(np.float64, copy=False)
        recent = times > now - self.window_seconds
        rows = self._ordered(self._rows).astype(np.float64, copy=False)
        groups = self._ordered(self._groups).astype(np.int32, copy=False)
        return WindowSample(rows[recent], times[recent], groups[recent])


@dataclass(frozen=True)
class DriftReference:
    """The version's reference sample, columns in the model's feature order."""

    features: tuple[str, ...]
    rows: NDArray[np.float64]


@dataclass(frozen=True)
class DriftPlan:
    """How much of the window to compare: rows needed (after thinning) and the thinning step."""

    min_rows: int
    thin_seconds: float


def assess_drift(
    detector: DriftDetector, reference: DriftReference, sample: WindowSample, plan: DriftPlan
) -> DriftReport | None:
    """Drift of the window against the reference: PSI over every (deduplicated) row, KS over
    the rows thinned per feature; None (nothing to export) until ``plan.min_rows`` rows remain
    after thinning to ``plan.thin_seconds``."""
    if reference.rows.shape[0] == 0:
        return None
    steps = [max(plan.thin_seconds, FEATURE_SPAN_SECONDS.get(f, 0.0)) for f in reference.features]
    keeps = {s: plan_thinning(sample.times, sample.groups, s) for s in {plan.thin_seconds, *steps}}
    if int(keeps[plan.thin_seconds].sum()) < plan.min_rows:
        return None
    thinned = [sample.rows[keeps[s], i] for i, s in enumerate(steps)]
    return detector.assess(reference.features, reference.rows, sample.rows, thinned)
