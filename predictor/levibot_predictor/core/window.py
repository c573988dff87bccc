"""The drift window and the drift check (predictor core, pure): which rows are compared.

The window holds the recent market seen by served predictions: at most one row per (symbol,
feature second) for the symbol endpoint, however many requests served it (drift is about the
market, not the traffic), and client rows within a bound; it is bounded by count
(``DRIFT_WINDOW``) and by time (``DRIFT_WINDOW_SECONDS``). Below ``DRIFT_MIN_ROWS`` thinned
rows ``assess_drift`` answers None: the monitor then *removes* the PSI/KS series (absent, not
NaN), which alert rules never match and canary analysis reads as inconclusive.

What a client can do to it is bounded (``plan_client_rows``): a predictor that serves symbols
measures the market, and rows sent to ``/v1/predict`` never enter its window; one that serves
no symbol measures its clients, at most ``client_rows_per_second`` of their rows a second (the
first of each second), so one huge batch or a flood of junk cannot replace the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from levibot_predictor.core.drift import (
    FEATURE_SPAN_SECONDS,
    DriftDetector,
    DriftReport,
    plan_thinning,
)
from levibot_predictor.core.drift_score import DriftThresholds

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

    def __init__(
        self, capacity: int, width: int, window_seconds: float = 1800.0,
        client_rows_per_second: int | None = None,
    ) -> None:  # fmt: skip
        self._rows = np.zeros((capacity, width), dtype=np.float64)
        self._times = np.zeros(capacity, dtype=np.float64)
        self._groups = np.zeros(capacity, dtype=np.int32)
        self._next = 0
        self.count = 0
        self.window_seconds = window_seconds
        self._symbol_groups: dict[str, int] = {}
        self._last_second: dict[str, int] = {}
        self._client_cap = client_rows_per_second  # None: uncapped
        self._client_second = -1
        self._client_taken = 0

    def add(self, matrix: NDArray[np.float32], now: float) -> None:
        """Append client rows served at ``now`` (within the per-second cap), overwriting the
        oldest."""
        if self._client_cap is not None:
            second = math.floor(now)
            if second != self._client_second:
                self._client_second, self._client_taken = second, 0
            matrix = matrix[: max(self._client_cap - self._client_taken, 0)]
            self._client_taken += matrix.shape[0]
        if matrix.shape[0]:
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


def plan_client_rows(serves_symbols: bool, per_second: int) -> int:
    """Client rows a second the drift window takes: none when the predictor measures the
    market (it serves symbols), else ``per_second``."""
    return 0 if serves_symbols else per_second


@dataclass(frozen=True)
class DriftReference:
    """The version's reference sample, columns in the model's feature order, and the drift
    thresholds its scores are measured against (None: the fixed fallback)."""

    features: tuple[str, ...]
    rows: NDArray[np.float64]
    thresholds: DriftThresholds | None = None


@dataclass(frozen=True)
class DriftPlan:
    """How much of the window to compare: rows needed (after thinning) and the thinning step."""

    min_rows: int
    thin_seconds: float


def assess_drift(
    detector: DriftDetector, reference: DriftReference, sample: WindowSample, plan: DriftPlan
) -> DriftReport | None:
    """Drift of the window against the reference: PSI and the tail share (per symbol) over every
    (deduplicated) row, KS over the rows thinned per feature; None (nothing to export) until
    ``plan.min_rows`` rows remain after thinning to ``plan.thin_seconds``."""
    if reference.rows.shape[0] == 0:
        return None
    steps = [max(plan.thin_seconds, FEATURE_SPAN_SECONDS.get(f, 0.0)) for f in reference.features]
    keeps = {s: plan_thinning(sample.times, sample.groups, s) for s in {plan.thin_seconds, *steps}}
    if int(keeps[plan.thin_seconds].sum()) < plan.min_rows:
        return None
    thinned = [sample.rows[keeps[s], i] for i, s in enumerate(steps)]
    return detector.assess(reference.features, reference.rows, sample.rows, thinned, sample.groups)
