"""Drift thresholds calibrated on the training period (trainer core, pure).

The training period is the market the version was built for, so it is the healthy market by
definition. The predictor compares a sliding window of served rows with the version's reference
(``levibot_predictor.core.window``); here the same comparison is replayed over the training
period itself: windows of ``window_seconds`` ending every ``interval_seconds`` (the predictor's
cadence; coarser when the period would give more than ``MAX_WINDOWS``), PSI and the tail share
over every row (the tail share over the window and in its most extreme symbol) and KS over
rows thinned to one per ``thin_seconds`` per symbol, a window below
``min_rows`` thinned rows being no value, with the shared statistics of ``levibot_common.drift``.
Sliding windows keep the market's autocorrelation, as the predictor's do.

An alert fires when a score stays above 1 for ``for_seconds`` (the rule's ``for``). Each
series becomes a threshold in ``levibot_trainer.core.drift_levels``: per (feature, statistic)
the level whose alarm-episode rate is the target divided among the 4 x features series (a
union bound), counted when the period holds enough episodes, else extrapolated from a Pareto
tail at an upper confidence bound. KS is calibrated on u = -log10(p), stored as the p-value
threshold (at most ``KS_CEILING``, the floored p's reach). A tail threshold is at least
``TAIL_SHARE_FLOOR``: a period whose windows never left the reference's range still allows a
window a few rows past it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from levibot_common.drift import (
    TAIL_QUANTILE,
    assess_ks_pvalue,
    assess_psi_counts,
    assign_psi_bins,
    assign_tail,
    plan_psi_edges,
    plan_tail_edges,
    plan_thin_seconds,
)
from levibot_trainer.core.drift_levels import (
    TAIL_CONFIDENCE,
    assess_persistent,
    count_episodes,
    derive_level,
)

__all__ = [
    "Calibration", "MonitoringWindows", "StatisticSeries", "assess_persistent",
    "calibrate_thresholds", "count_episodes", "derive_level", "measure_statistics",
]  # fmt: skip

MAX_WINDOWS = 20_000  # evaluations per feature; the stride grows past it (7 days: 30 s)
MAX_KS_WINDOWS = 2_000  # KS tests per feature (scipy's exact test is ~1 ms); filled forward
KS_FLOOR = 1e-300
KS_CEILING = -math.log10(KS_FLOOR)  # a level beyond (a short period's) is unreachable anyway
STATISTICS = 4  # psi, ks, tail, tail_symbol: the series per feature the target is divided among
TAIL_SHARE_FLOOR = 4 * TAIL_QUANTILE  # twice the reference's own share beyond its range
METHOD = (
    "sliding windows of the training period replayed as the predictor's; per (feature, "
    "statistic) the level whose episode rate (the minimum over for_seconds crossing it) is "
    "false_alarms_per_day / (4 x features), counted, or extrapolated from the episodes' peaks "
    "over a high level (Pareto tail, Hill's estimate), at the upper confidence bounds "
    f"({TAIL_CONFIDENCE:g} each) of the rate there and of the tail index"
)


@dataclass(frozen=True)
class MonitoringWindows:
    """The predictor's drift windows (spec.serving.monitoring) and the alert's persistence."""

    window_seconds: float
    thin_seconds: float
    interval_seconds: float
    min_rows: int
    for_seconds: float

    def as_document(self) -> dict[str, float]:
        """As stored with the thresholds (the predictor checks its own windows against it)."""
        return {
            "window_seconds": self.window_seconds,
            "thin_seconds": self.thin_seconds,
            "interval_seconds": self.interval_seconds,
            "min_rows": self.min_rows,
            "for_seconds": self.for_seconds,
        }


@dataclass(frozen=True)
class StatisticSeries:
    """PSI, KS p-value and tail shares (pooled, most extreme symbol) of every window (rows:
    window ends), NaN below ``min_rows``."""

    ends: NDArray[np.float64]
    stride: float
    psi: NDArray[np.float64]
    ks_pvalue: NDArray[np.float64]
    tail: NDArray[np.float64]
    tail_symbol: NDArray[np.float64]


@dataclass(frozen=True)
class Calibration:
    """Per feature the PSI, KS p-value and tail share (pooled, most extreme symbol) thresholds
    for the target rate, and how they came."""

    features: tuple[str, ...]
    psi: tuple[float, ...]
    ks_pvalue: tuple[float, ...]
    false_alarms_per_day: float
    windows: MonitoringWindows
    days: float
    evaluations: int
    tail: tuple[float, ...] = ()
    tail_symbol: tuple[float, ...] = ()

    @property
    def complete(self) -> bool:
        """Whether every threshold could be derived (the period held enough full windows)."""
        values = (*self.psi, *self.ks_pvalue, *self.tail, *self.tail_symbol)
        return (
            bool(values)
            and len(self.tail) == len(self.tail_symbol) == len(self.features)
            and all(math.isfinite(v) and v > 0 for v in values)
            and all(v < 1 for v in self.ks_pvalue)
        )

    def as_document(self) -> dict[str, Any]:
        """The registry's ``metrics.drift_thresholds``."""
        return {
            "method": METHOD,
            "false_alarms_per_day": self.false_alarms_per_day,
            "monitoring": self.windows.as_document(),
            "days": round(self.days, 4),
            "evaluations": self.evaluations,
            "features": {
                name: {"psi": psi, "ks_pvalue": ks, "tail": tail, "tail_symbol": symbol}
                for name, psi, ks, tail, symbol in zip(
                    self.features,
                    self.psi,
                    self.ks_pvalue,
                    self.tail,
                    self.tail_symbol,
                    strict=True,
                )
            },
        }


def plan_window_ends(t: NDArray[np.int64], windows: MonitoringWindows) -> NDArray[np.float64]:
    """Ends of the first full window to the last row, ``interval_seconds`` apart (or wider)."""
    if t.size == 0:
        return np.zeros(0)
    first, last = float(t[0]) + windows.window_seconds, float(t[-1])
    stride = max(windows.interval_seconds, (last - first) / MAX_WINDOWS)
    count = max(int((last - first) // stride) + 1, 0)
    return np.asarray(first + stride * np.arange(count), dtype=np.float64)


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
    edges = plan_psi_edges(reference)
    bins = edges.size + 1
    ref_counts = np.bincount(assign_psi_bins(edges, reference), minlength=bins)
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


def measure_statistics(
    features: tuple[str, ...], reference: NDArray[np.float64], t: NDArray[np.int64],
    x: NDArray[np.float64], windows: MonitoringWindows, *, max_ks_tests: int = MAX_KS_WINDOWS,
    symbols: NDArray[np.int64] | None = None,
) -> StatisticSeries:  # fmt: skip
    """Every window's PSI, KS p-value and tail shares per feature over the time-ordered rows
    (of ``symbols``, the per-symbol share's groups; None: one)."""
    ends = plan_window_ends(t, windows)
    stride = float(ends[1] - ends[0]) if ends.size > 1 else windows.interval_seconds
    absent = count_thinned(t, ends, windows.window_seconds, windows.thin_seconds) < windows.min_rows
    psi = np.empty((ends.size, len(features)))
    ks = np.empty((ends.size, len(features)))
    tail = np.empty((ends.size, len(features)))
    tail_symbol = np.empty((ends.size, len(features)))
    for i, name in enumerate(features):
        psi[:, i] = measure_psi_series(reference[:, i], t, x[:, i], ends, windows.window_seconds)
        tail[:, i] = measure_tail_series(reference[:, i], t, x[:, i], ends, windows.window_seconds)
        tail_symbol[:, i] = measure_tail_series(
            reference[:, i], t, x[:, i], ends, windows.window_seconds, symbols=symbols
        )
        step = plan_thin_seconds(name, windows.thin_seconds)
        ks[:, i] = measure_ks_series(
            reference[:, i], t, x[:, i], ends, windows.window_seconds, step=step,
            max_tests=max_ks_tests,
        )  # fmt: skip
    for series in (psi, ks, tail, tail_symbol):
        series[absent] = np.nan
    return StatisticSeries(ends, stride, psi, ks, tail, tail_symbol)


def calibrate_thresholds(
    features: tuple[str, ...], reference: NDArray[np.float64], t: NDArray[np.int64],
    x: NDArray[np.float64], windows: MonitoringWindows, *, false_alarms_per_day: float,
    symbols: NDArray[np.int64] | None = None,
) -> Calibration:  # fmt: skip
    """The PSI, KS p-value and tail share thresholds of each feature for
    ``false_alarms_per_day`` (the whole ModelDeployment's), on the time-ordered training rows
    (``t``, ``x``, of ``symbols``; None: one)."""
    series = measure_statistics(features, reference, t, x, windows, symbols=symbols)
    steps = int(windows.for_seconds // series.stride) + 1
    days = series.ends.size * series.stride / 86_400.0
    per_series = false_alarms_per_day / (STATISTICS * len(features))
    psi: list[float] = []
    ks: list[float] = []
    tail: list[float] = []
    tail_symbol: list[float] = []
    for i in range(len(features)):
        psi.append(derive_level(assess_persistent(series.psi[:, i], steps), days, per_series))
        u = -np.log10(np.maximum(series.ks_pvalue[:, i], KS_FLOOR))
        level = derive_level(assess_persistent(u, steps), days, per_series)
        ks.append(10.0 ** -min(level, KS_CEILING))  # past the floor: a p no window reaches
        for shares, out in ((series.tail, tail), (series.tail_symbol, tail_symbol)):
            share = derive_level(assess_persistent(shares[:, i], steps), days, per_series)
            out.append(max(share, TAIL_SHARE_FLOOR))  # NaN stays NaN
    return Calibration(features, tuple(psi), tuple(ks), false_alarms_per_day, windows, days,
                       int(series.ends.size), tuple(tail), tuple(tail_symbol))  # fmt: skip
