"""Drift statistics shared by the predictor and the trainer (common, pure): PSI, KS, tail, thinning.

The predictor measures the drift of its window against the version's reference with these
functions (``levibot_predictor.core.drift``); the trainer replays the same statistics over
sliding windows of its training period to calibrate the thresholds
(``levibot_trainer.core.drift_calibration``). One definition, so a calibrated threshold means
the same thing at both ends.

PSI uses ``PSI_BINS`` quantile bins cut on the reference (so each holds ~10 % of it), both
histograms smoothed by ``PSI_EPSILON`` before the log ratio; ``assess_psi_counts`` takes bin
counts, so the trainer can slide a window with cumulative counts. KS is scipy's two-sample test
on rows thinned to one per ``thin_seconds`` per symbol (``plan_thinning``), and one per
``FEATURE_SPAN_SECONDS`` for the five-minute features: see the predictor's drift module for why.

The tail share counts the window's rows (every row, as PSI) strictly outside the reference's
[``TAIL_QUANTILE``, 1 - ``TAIL_QUANTILE``] quantiles (the reference holds ~1 % there) in the
window's most extreme symbol: that symbol's count beyond over the window's rows per symbol
(``summarize_tail``; with one symbol, the pooled share). Symbols switch volatility regimes
independently, so a market change usually drives one symbol past the range first, and a pooled
share diluted it among the calm ones (vol x3 caught in 68 % of seed markets with regimes,
``bench/drift_false_alarms.py``). PSI's outermost bins are the reference's top and bottom
deciles, so PSI saturates (~8.3 with ten bins) once a window's values all sit in one of them:
it cannot tell a market 3x beyond the reference's range from a healthy stormy window that fills
the top decile. The tail share can: it counts the rows past the range, which a healthy window
holds few of.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import stats

PSI_BINS = 10
PSI_EPSILON = 1e-4
TAIL_QUANTILE = 0.005  # the tail share counts rows below this quantile or above 1 - it
FEATURE_SPAN_SECONDS = {"ret_5m": 300.0, "vol_5m": 300.0}  # longer than the 60-s default


def plan_thinning(
    times: NDArray[np.float64], groups: NDArray[np.int32], thin_seconds: float
) -> NDArray[np.bool_]:
    """Which rows to keep: the first of each (group, ``thin_seconds`` bucket) for market rows
    (group > 0, one group per symbol), every client row (group 0). Rows are oldest first."""
    buckets = np.floor(times / thin_seconds).astype(np.int64)
    keep: NDArray[np.bool_] = groups == 0
    for group in np.unique(groups[groups > 0]):
        members = np.flatnonzero(groups == group)
        _, first = np.unique(buckets[members], return_index=True)
        keep[members[first]] = True
    return keep


def plan_thin_seconds(feature: str, thin_seconds: float) -> float:
    """The KS thinning step of ``feature``: ``thin_seconds``, or its span when longer."""
    return max(thin_seconds, FEATURE_SPAN_SECONDS.get(feature, 0.0))


def plan_psi_edges(reference: NDArray[np.float64]) -> NDArray[np.float64]:
    """The inner bin edges of one feature: the reference's deciles, deduplicated."""
    return np.unique(np.quantile(reference, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))


def assign_psi_bins(edges: NDArray[np.float64], values: NDArray[np.float64]) -> NDArray[np.intp]:
    """The bin of each value (0 .. edges.size)."""
    return np.searchsorted(edges, values, side="right")


def assess_psi_counts(
    reference_counts: NDArray[np.int64], current_counts: NDArray[np.int64]
) -> NDArray[np.float64]:
    """PSI from bin counts: ``reference_counts`` (bins,), ``current_counts`` (windows, bins)."""
    ref_p = reference_counts / reference_counts.sum() + PSI_EPSILON
    totals = np.maximum(current_counts.sum(axis=1, keepdims=True), 1)
    cur_p = current_counts / totals + PSI_EPSILON
    psi: NDArray[np.float64] = np.sum((cur_p - ref_p) * np.log(cur_p / ref_p), axis=1)
    return psi


def assess_psi(reference: NDArray[np.float64], current: NDArray[np.float64]) -> float:
    """Population stability index of one feature, quantile bins from the reference."""
    edges, ref_counts = count_psi_reference(reference)
    cur_counts = np.bincount(assign_psi_bins(edges, current), minlength=ref_counts.size)
    return float(assess_psi_counts(ref_counts, cur_counts[None, :])[0])


def count_psi_reference(
    reference: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """PSI's inner bin edges of one feature and the reference's count in each bin."""
    edges = plan_psi_edges(reference)
    return edges, np.bincount(assign_psi_bins(edges, reference), minlength=edges.size + 1)


def assess_psi_reach(reference: NDArray[np.float64]) -> float:
    """The highest PSI a window can have against ``reference``: every value in the bin the
    reference fills least (~8.3 with ten deciles)."""
    _, ref_counts = count_psi_reference(reference)
    return float(assess_psi_counts(ref_counts, np.eye(ref_counts.size, dtype=np.int64)).max())


def assess_ks_pvalue(reference: NDArray[np.float64], current: NDArray[np.float64]) -> float:
    """Two-sample Kolmogorov-Smirnov p-value of one feature."""
    return float(stats.ks_2samp(reference, current).pvalue)


def plan_tail_edges(reference: NDArray[np.float64]) -> tuple[float, float]:
    """The tail share's edges: the reference's ``TAIL_QUANTILE`` and 1 - ``TAIL_QUANTILE``
    quantiles."""
    low, high = np.quantile(reference, (TAIL_QUANTILE, 1.0 - TAIL_QUANTILE))
    return float(low), float(high)


def assign_tail(edges: tuple[float, float], values: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Whether each value lies strictly outside ``edges``."""
    return np.asarray((values < edges[0]) | (values > edges[1]))


def summarize_tail(beyond: NDArray[np.bool_], groups: NDArray[np.integer] | None = None) -> float:
    """The tail share of a window from its rows' ``beyond`` flags: the highest count of a group
    (``groups``, one per symbol; None: one group) over the rows per group present, so a group
    with few rows (a symbol just added) weighs by its rows, not as a whole window."""
    if beyond.size == 0:
        return 0.0
    if groups is None:
        return float(np.count_nonzero(beyond) / beyond.size)
    present, inverse = np.unique(groups, return_inverse=True)
    counts = np.bincount(inverse, weights=beyond, minlength=present.size)
    return float(counts.max() * present.size / beyond.size)


def assess_tail_share(
    reference: NDArray[np.float64], current: NDArray[np.float64],
    groups: NDArray[np.integer] | None = None,
) -> float:  # fmt: skip
    """The tail share of ``current`` (rows' ``groups``, None: one group) against the
    reference's extreme quantiles (0 for no rows)."""
    if current.size == 0:
        return 0.0
    return summarize_tail(assign_tail(plan_tail_edges(reference), current), groups)


def assess_tail_shares(
    reference: NDArray[np.float64], current: NDArray[np.float64], groups: NDArray[np.integer]
) -> tuple[float, float]:
    """Both tail shares of ``current``, pooled and in its most extreme group, from one pass
    over the reference's quantiles and the rows beyond them."""
    beyond = assign_tail(plan_tail_edges(reference), current)
    return summarize_tail(beyond), summarize_tail(beyond, groups)
