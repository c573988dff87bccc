"""Simulated traffic and the paired prediction log (benchmark helper).

Requests arrive per symbol as a Poisson process of ``rate`` per second (``build_traffic``). A
request at ``ts`` in second ``s`` is served from the newest complete 1-s feature row, the row
of second ``k = s - 1``
(the predictor's feature cache refreshes once a second); its outcome is the trainer's label of
that row, ``close[k + h] > close[k]``, which is what the predictor's resolution SQL computes
(last tick at or before ``ts`` and ``ts + h``) on a 1-s grid. It becomes known at the first
monitor pass (every ``MONITOR_INTERVAL_S``, the predictor's default) at or after ``ts + h``.

``PairedLog`` holds exactly what the shadow-scored prediction log will hold, one row per
request, oldest first: ``ts``, ``symbol`` (index), ``p_stable`` and ``p_candidate`` (both
versions score every request), the ``track`` that served it (0 stable, 1 candidate; -1 until
the canary machine has decided the weight in force), ``outcome`` and ``resolved_at`` (the
outcome is known only to a reader whose ``now >= resolved_at``; ``PairedLog.view`` masks it),
and, when the market's returns were given, ``outcome_return`` (the horizon's simple return,
resolved with the outcome).
Which track served a request is drawn with one uniform per request (``u < weight / 100``), so
two canaries with the same traffic and the same weight history serve the same rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gatesim.markets import HORIZON_S, FloatArray

MONITOR_INTERVAL_S = 15.0
STABLE, CANDIDATE, UNASSIGNED = 0, 1, -1
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Traffic:
    """Requests of one period, oldest first: time, symbol, feature row second, track draw."""

    ts: FloatArray
    symbol: IntArray
    row: IntArray
    draw: FloatArray


def build_traffic(
    rng: np.random.Generator, symbols: int, start: int, stop: int, rate: float
) -> Traffic:
    """Poisson requests at ``rate`` per second per symbol over seconds ``[start, stop)``.

    Drawn as their superposition (exact): ``Poisson(rate * symbols)`` requests per second, each
    for a uniformly drawn symbol. Within a second the ``n`` offsets are stratified,
    ``(j + U_j) / n``, already in order (sorted uniforms would need a sort of every request;
    only the sub-second placement differs)."""
    counts = rng.poisson(rate * symbols, size=stop - start)
    second = np.repeat(np.arange(start, stop), counts)
    n = np.repeat(counts, counts)
    j = np.arange(second.size) - np.repeat(np.cumsum(counts) - counts, counts)
    ts = second + (j + rng.random(second.size)) / n
    symbol = rng.integers(0, symbols, size=second.size)
    return Traffic(ts, symbol, second - 1, rng.random(second.size))


def plan_resolved_at(ts: FloatArray, phase: float) -> FloatArray:
    """The first monitor pass (``phase + j * MONITOR_INTERVAL_S``) at or after ``ts + h``."""
    passes = np.ceil((ts + HORIZON_S - phase) / MONITOR_INTERVAL_S)
    return np.asarray(phase + passes * MONITOR_INTERVAL_S, dtype=np.float64)


@dataclass
class PairedLog:
    """The paired prediction log of one canary (columns, one row per request, oldest first).

    ``track`` is filled in as simulated time advances (``assign_tracks``); everything else is
    fixed. Readers must use only rows with ``ts <= now`` and outcomes with
    ``resolved_at <= now`` (``view`` does that)."""

    ts: FloatArray
    symbol: IntArray
    row: IntArray
    p_stable: FloatArray
    p_candidate: FloatArray
    track: NDArray[np.int8]
    outcome: FloatArray
    resolved_at: FloatArray
    draw: FloatArray
    assigned: int = 0
    outcome_return: FloatArray | None = None

    def assign_tracks(self, until: float, weight: float) -> None:
        """Serve the unassigned requests with ``ts < until`` at canary ``weight`` (percent)."""
        stop = int(np.searchsorted(self.ts, until, side="left"))
        if stop > self.assigned:
            part = slice(self.assigned, stop)
            self.track[part] = np.where(self.draw[part] < weight / 100.0, CANDIDATE, STABLE)
            self.assigned = stop

    def count_until(self, now: float) -> int:
        """Rows with ``ts <= now`` (a prefix: rows are oldest first)."""
        return int(np.searchsorted(self.ts, now, side="right"))

    def view(self, now: float) -> PairedLog:
        """What a reader at ``now`` sees: rows up to ``now``, outcomes NaN until resolved."""
        n = self.count_until(now)
        known = self.resolved_at[:n] <= now
        return PairedLog(
            self.ts[:n], self.symbol[:n], self.row[:n], self.p_stable[:n],
            self.p_candidate[:n], self.track[:n], np.where(known, self.outcome[:n], math.nan),
            self.resolved_at[:n], self.draw[:n], min(self.assigned, n),
            None if self.outcome_return is None
            else np.where(known, self.outcome_return[:n], math.nan),
        )  # fmt: skip


def build_paired_logs(
    traffic: Traffic,
    labels: FloatArray,
    stable: FloatArray,
    candidates: dict[str, FloatArray],
    phase: float,
    *,
    returns: FloatArray | None = None,
) -> dict[str, PairedLog]:
    """One log per candidate over the same requests: both versions' p_up and the outcome of
    every request's feature row (the shared columns are computed once, and not copied).
    ``labels``, ``stable``, each candidate and ``returns`` are (symbols x seconds) arrays."""
    sym, row = traffic.symbol, traffic.row
    flat = sym * labels.shape[1] + row
    outcome, p_stable = labels.take(flat), stable.take(flat)
    resolved = plan_resolved_at(traffic.ts, phase)
    outcome_return = None if returns is None else returns.take(flat)
    return {
        kind: PairedLog(
            traffic.ts,
            sym,
            row,
            p_stable,
            candidate.take(flat),
            np.full(row.size, UNASSIGNED, dtype=np.int8),
            outcome,
            resolved,
            traffic.draw,
            outcome_return=outcome_return,
        )
        for kind, candidate in candidates.items()
    }
