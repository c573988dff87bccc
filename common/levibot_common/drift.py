"""Drift statistics shared by the predictor and the trainer (common, pure): PSI, KS, thinning.

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
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import stats

PSI_BINS = 10
PSI_EPSILON = 1e-4
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
    edges = plan_psi_edges(reference)
    bins = edges.size + 1
    ref_counts = np.bincount(assign_psi_bins(edges, reference), minlength=bins)
    cur_counts = np.bincount(assign_psi_bins(edges, current), minlength=bins)
    return float(assess_psi_counts(ref_counts, cur_counts[None, :])[0])


def assess_ks_pvalue(reference: NDArray[np.float64], current: NDArray[np.float64]) -> float:
    """Two-sample Kolmogorov-Smirnov p-value of one feature."""
    return float(stats.ks_2samp(reference, current).pvalue)
