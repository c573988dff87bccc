"""Drift thresholds calibrated on the training period (trainer core, pure).

The training period is the market the version was built for, so it is the healthy market by
definition. The predictor compares a sliding window of served rows with the version's reference
(``levibot_predictor.core.window``); here the same comparison is replayed over the training
period itself: windows of ``window_seconds`` ending every ``interval_seconds`` (the predictor's
cadence; coarser when the period would give more than ``MAX_WINDOWS``), PSI and the tail share
over every row (the tail share over the window and in its most extreme symbol) and KS over
rows thinned to one per ``thin_seconds`` per symbol, a window below ``min_rows`` thinned rows
being no value, with the shared statistics of ``levibot_common.drift`` (each statistic's series
over the window ends: ``levibot_trainer.core.drift_replay``). Sliding windows keep the market's
autocorrelation, as the predictor's do.

An alert fires when a score stays above 1 for ``for_seconds`` (the rule's ``for``). Each
series becomes a threshold in ``levibot_trainer.core.drift_levels``: per (feature, statistic)
the level whose alarm-episode rate is the target divided among the 4 x features series (a
union bound), counted when the period holds enough episodes, else extrapolated from a Pareto
tail at an upper confidence bound; for PSI and the tail shares, which are bounded, a level past
their reach is fitted again on a scale where the reach is at infinity
(``derive_bounded_level``), so a window at the reach fires. KS is
calibrated on u = -log10(p), stored as the p-value
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

from levibot_common.drift import TAIL_QUANTILE, assess_psi_reach, plan_thin_seconds
from levibot_trainer.core.drift_levels import (
    TAIL_CONFIDENCE,
    assess_persistent,
    count_episodes,
    derive_bounded_level,
    derive_level,
)
from levibot_trainer.core.drift_replay import (
    MAX_KS_WINDOWS,
    count_thinned,
    measure_ks_series,
    measure_psi_series,
    measure_tail_series,
)

__all__ = [
    "Calibration", "MonitoringWindows", "StatisticSeries", "assess_persistent",
    "calibrate_thresholds", "count_episodes", "derive_level", "measure_statistics",
]  # fmt: skip

MAX_WINDOWS = 20_000  # evaluations per feature; the stride grows past it (7 days: 30 s)
KS_FLOOR = 1e-300
KS_CEILING = -math.log10(KS_FLOOR)  # a level beyond (a short period's) is unreachable anyway
STATISTICS = 4  # psi, ks, tail, tail_symbol: the series per feature the target is divided among
TAIL_SHARE_FLOOR = 4 * TAIL_QUANTILE  # twice the reference's own share beyond its range
METHOD = (
    "sliding windows of the training period replayed as the predictor's; per (feature, "
    "statistic) the level whose episode rate (the minimum over for_seconds crossing it) is "
    "false_alarms_per_day / (4 x features), counted, or extrapolated from the episodes' peaks "
    "over a high level (Pareto tail, Hill's estimate), at the upper confidence bounds "
    f"({TAIL_CONFIDENCE:g} each) of the rate there and of the tail index; a psi or tail share "
    "level past the statistic's reach fitted again on -log(1 - value / reach), so a window at "
    "the reach fires (the reach itself when the period sat there more often than the rate allows)"
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
        persistent = assess_persistent(series.psi[:, i], steps)
        reach = assess_psi_reach(reference[:, i])
        psi.append(derive_bounded_level(persistent, days, per_series, reach))
        u = -np.log10(np.maximum(series.ks_pvalue[:, i], KS_FLOOR))
        level = derive_level(assess_persistent(u, steps), days, per_series)
        ks.append(10.0 ** -min(level, KS_CEILING))  # past the floor: a p no window reaches
        for shares, out in ((series.tail, tail), (series.tail_symbol, tail_symbol)):
            persistent = assess_persistent(shares[:, i], steps)
            share = derive_bounded_level(persistent, days, per_series, 1.0)
            out.append(max(share, TAIL_SHARE_FLOOR))  # NaN stays NaN
    return Calibration(features, tuple(psi), tuple(ks), false_alarms_per_day, windows, days,
                       int(series.ends.size), tuple(tail), tuple(tail_symbol))  # fmt: skip
