"""The replay of the predictor's drift window over time-ordered rows (trainer core, pure).

``levibot_trainer.core.drift_calibration`` slides the predictor's window over the training
period; here are the pieces that make one statistic's series over every window end from
cumulative counts (PSI's bin counts, the tail share's rows beyond, per symbol or pooled) or
from tests repeated only where the thinned rows change (KS), with the rows thinned exactly as
the predictor thins them (``levibot_predictor.core.window``): one row per symbol per step, the
rows whose second is a multiple of it, plus each window's partial first bucket.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from levibot_common.drift import (
    assess_ks_pvalue,
    assess_psi_counts,
    assign_psi_bins,
    assign_tail,
    count_psi_reference,
    plan_tail_edges,
)

MAX_KS_WINDOWS = 2_000  # KS tests per feature (scipy's exact test is ~1 ms); filled forward


def plan_thinned_rows(t: NDArray[np.int64], step: float) -> NDArray[np.bool_]:
    """One row per symbol per ``step`` seconds: the rows whose second is a multiple of it (the
    predictor's first row of each bucket, on contiguous one-second series; the reference
    sample is thinned the same way)."""
    return np.asarray(np.mod(t, step) == 0)


def plan_window_heads(
    t: NDArray[np.int64], ends: NDArray[np.float64], window_seconds: float, step: float
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Per window, the [lo, hi) rows of its first second when that second starts no bucket:
    the predictor keeps them (the first row of the window's partial first bucket, per symbol)
    on top of the bucket starts."""
    lo = np.searchsorted(t, ends - window_seconds, side="right")
    first = t[np.minimum(lo, t.size - 1)]
    hi = np.searchsorted(t, first, side="right")
    partial = (lo < t.size) & (np.mod(first, step) != 0)
    return lo, np.where(partial, hi, lo)


def count_thinned(
    t: NDArray[np.int64], ends: NDArray[np.float64], window_seconds: float, step: float
) -> NDArray[np.intp]:
    """Rows per window after the predictor's thinning to ``step``."""
    kept = t[plan_thinned_rows(t, step)]
    held = np.searchsorted(kept, ends, "right") - np.searchsorted(
        kept, ends - window_seconds, "right"
    )
    head_lo, head_hi = plan_window_heads(t, ends, window_seconds, step)
    counts: NDArray[np.intp] = held + head_hi - head_lo
    return counts


def measure_psi_series(
    reference: NDArray[np.float64], t: NDArray[np.int64], values: NDArray[np.float64],
    ends: NDArray[np.float64], window_seconds: float,
) -> NDArray[np.float64]:  # fmt: skip
    """PSI of the rows in (end - window, end] for every end, from cumulative bin counts."""
    edges, ref_counts = count_psi_reference(reference)
    bins = ref_counts.size
    row_bins = assign_psi_bins(edges, values)
    cumulative = np.zeros((t.size + 1, bins), dtype=np.int32)
    cumulative[np.arange(1, t.size + 1), row_bins] = 1
    np.cumsum(cumulative, axis=0, out=cumulative)
    lo = np.searchsorted(t, ends - window_seconds, side="right")
    hi = np.searchsorted(t, ends, side="right")
    return assess_psi_counts(ref_counts, cumulative[hi] - cumulative[lo])


def measure_tail_series(
    reference: NDArray[np.float64], t: NDArray[np.int64], values: NDArray[np.float64],
    ends: NDArray[np.float64], window_seconds: float, *, symbols: NDArray[np.int64] | None = None,
) -> NDArray[np.float64]:  # fmt: skip
    """Tail share of the rows in (end - window, end] for every end, in the window's most
    extreme symbol (``levibot_common.drift.summarize_tail``; ``symbols`` None: one), from
    cumulative counts, one symbol at a time."""
    beyond = assign_tail(plan_tail_edges(reference), values)
    lo = np.searchsorted(t, ends - window_seconds, side="right")
    hi = np.searchsorted(t, ends, side="right")
    highest, present = np.zeros(ends.size), np.zeros(ends.size)
    for member in [None] if symbols is None else [symbols == s for s in np.unique(symbols)]:
        rows = np.ones(t.size, bool) if member is None else member
        held = np.concatenate([[0], np.cumsum(rows)])
        counted = np.concatenate([[0], np.cumsum(beyond & rows)])
        highest = np.maximum(highest, counted[hi] - counted[lo])
        present += (held[hi] - held[lo]) > 0
    share: NDArray[np.float64] = highest * np.maximum(present, 1) / np.maximum(hi - lo, 1)
    return share


def measure_ks_series(
    reference: NDArray[np.float64], t: NDArray[np.int64], values: NDArray[np.float64],
    ends: NDArray[np.float64], window_seconds: float, *, step: float,
    max_tests: int = MAX_KS_WINDOWS,
) -> NDArray[np.float64]:  # fmt: skip
    """KS p-value of the rows in (end - window, end] thinned to ``step`` as the predictor
    thins them: tested at most ``max_tests`` times, each value holding until the next test
    (the thinned set changes once a step anyway); windows holding the same rows are tested
    once."""
    every = max(1, math.ceil(ends.size / max_tests))
    tested = ends[::every]
    keep = plan_thinned_rows(t, step)
    kept_t, kept = t[keep], values[keep]
    lo = np.searchsorted(kept_t, tested - window_seconds, side="right")
    hi = np.searchsorted(kept_t, tested, side="right")
    head_lo, head_hi = plan_window_heads(t, tested, window_seconds, step)
    seen: dict[tuple[int, ...], float] = {}
    out = np.full(tested.size, np.nan)
    for i, key in enumerate(zip(lo.tolist(), hi.tolist(), head_lo.tolist(), head_hi.tolist(),
                                strict=True)):  # fmt: skip
        if key[1] > key[0] or key[3] > key[2]:
            if key not in seen:
                sample = np.concatenate([values[key[2] : key[3]], kept[key[0] : key[1]]])
                seen[key] = assess_ks_pvalue(reference, sample)
            out[i] = seen[key]
    return np.repeat(out, every)[: ends.size]
