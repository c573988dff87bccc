"""Training rows from 1-second closes (trainer core, pure): features, labels, the time split.

A row is one (symbol, second t): the shared feature definitions at t and the label
``y = p[t + horizon] > p[t]``. Rows whose feature window is incomplete and rows without a price
at ``t + horizon`` are dropped and counted, never imputed. The split is by time: the latest
``test_fraction`` of rows are the test set, and training rows end ``gap`` seconds (at least the
horizon) before the first test second, so no training label looks into the test period. The
drift reference sample is the thinned data window (see ``build_reference_sample``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from levibot_common.features import feature_matrix

REFERENCE_THIN_SECONDS = 60  # the predictor's DRIFT_THIN_SECONDS default


@dataclass(frozen=True)
class Rows:
    """Feature rows (sorted by time), their labels, epoch seconds and drop counts; the
    backtest's columns: each row's horizon return ``p[t + horizon] / p[t] - 1`` and its symbol
    (index into the parts ``build_rows`` merged), None when built without them."""

    t: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.int64]
    dropped_incomplete: int
    dropped_unlabelled: int
    horizon_return: NDArray[np.float64] | None = None
    symbol: NDArray[np.int64] | None = None

    @property
    def size(self) -> int:
        """Number of rows."""
        return int(self.t.size)


@dataclass(frozen=True)
class Split:
    """A time split: row masks and the boundary."""

    train: NDArray[np.bool_]
    test: NDArray[np.bool_]
    test_start: int
    train_end: int


def build_horizon_returns(closes: NDArray[np.float64], horizon: int) -> NDArray[np.float64]:
    """``p[t + horizon] / p[t] - 1`` (the label's sign, the paper trade's return); NaN without."""
    returns = np.full(closes.shape[0], np.nan)
    if closes.shape[0] > horizon:
        returns[:-horizon] = closes[horizon:] / closes[:-horizon] - 1.0
    return returns


def build_labels(closes: NDArray[np.float64], horizon: int) -> NDArray[np.float64]:
    """1.0 / 0.0 when the price ``horizon`` seconds later is higher / not; NaN without one."""
    labels = np.full(closes.shape[0], np.nan)
    if closes.shape[0] > horizon:
        labels[:-horizon] = (closes[horizon:] > closes[:-horizon]).astype(np.float64)
    return labels


def build_symbol_rows(
    seconds: NDArray[np.int64], closes: NDArray[np.float64], names: Sequence[str], horizon: int
) -> Rows:
    """Rows of one symbol's contiguous 1-second series."""
    features = feature_matrix(closes, names)
    labels = build_labels(closes, horizon)
    complete = ~np.isnan(features).any(axis=1)
    labelled = ~np.isnan(labels)
    keep = complete & labelled
    return Rows(
        t=seconds[keep],
        x=features[keep],
        y=labels[keep].astype(np.int64),
        dropped_incomplete=int((~complete).sum()),
        dropped_unlabelled=int((complete & ~labelled).sum()),
        horizon_return=build_horizon_returns(closes, horizon)[keep],
    )


def build_rows(parts: Sequence[Rows], width: int) -> Rows:
    """All symbols' rows in one time-ordered set (stable: ties keep symbol order)."""
    if not parts:
        return Rows(np.empty(0, np.int64), np.empty((0, width)), np.empty(0, np.int64), 0, 0)
    t = np.concatenate([p.t for p in parts])
    order = np.argsort(t, kind="stable")
    return Rows(
        t=t[order],
        x=np.concatenate([p.x for p in parts])[order],
        y=np.concatenate([p.y for p in parts])[order],
        dropped_incomplete=sum(p.dropped_incomplete for p in parts),
        dropped_unlabelled=sum(p.dropped_unlabelled for p in parts),
        horizon_return=merge_column([p.horizon_return for p in parts], order),
        symbol=np.concatenate([np.full(p.size, i, dtype=np.int64) for i, p in enumerate(parts)])[
            order
        ],
    )


def merge_column(
    columns: Sequence[NDArray[np.float64] | None], order: NDArray[np.intp]
) -> NDArray[np.float64] | None:
    """The parts' optional column in ``order``; None unless every part has it."""
    present = [c for c in columns if c is not None]
    if len(present) != len(columns):
        return None
    merged: NDArray[np.float64] = np.concatenate(present)[order]
    return merged


def plan_split(t: NDArray[np.int64], test_fraction: float, gap: int) -> Split:
    """The latest ``test_fraction`` of rows (whole seconds) test; train ends ``gap`` s earlier."""
    if t.size == 0:
        empty = np.zeros(0, dtype=np.bool_)
        return Split(empty, empty, 0, 0)
    cut_index = min(int(np.floor(t.size * (1.0 - test_fraction))), t.size - 1)
    test_start = int(t[cut_index])
    train_end = test_start - gap  # exclusive: a train label reaches at most train_end + horizon
    return Split(t < train_end, t >= test_start, test_start, train_end)


def build_reference_sample(rows: Rows, max_rows: int) -> NDArray[np.float64]:
    """The drift reference: the newest rows of the data window thinned like the predictor's
    KS sample, one row per symbol per ``REFERENCE_THIN_SECONDS`` (the rows whose second is a
    multiple of it), at most ``max_rows``. Neighbouring one-second rows add no independent
    information, so thinning a long stretch beats a random or a held-out-tail sample: measured
    in ``bench/predictor_drift.py``, the 6-h thinned reference gave a quieter healthy PSI than
    the thinned 1.2-h test tail (median worst feature 0.27 vs 0.51 after 30 min) and the same
    drift signal; a random sample of 2,000 one-second rows holds far fewer independent ones."""
    sample: NDArray[np.float64] = rows.x[rows.t % REFERENCE_THIN_SECONDS == 0][-max_rows:].copy()
    return sample
