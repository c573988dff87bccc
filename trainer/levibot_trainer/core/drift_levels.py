"""Thresholds from a statistic's series on the healthy period (trainer core, pure).

``levibot_trainer.core.drift_calibration`` replays the predictor's drift windows over the
training period; each (feature, statistic) series becomes a threshold here.

An alert fires when a score stays above 1 for ``for_seconds`` (the rule's ``for``), so a series
is first reduced to its *persistent* value, the minimum over the last ``for_seconds``
(``assess_persistent``): an alarm episode is an upcrossing of the threshold by that minimum
(``count_episodes``). The threshold of a series is the level whose episode rate is its share of
the target (the target over the 4 x features series, psi, ks, tail and tail_symbol: a union
bound, so the whole ModelDeployment stays at or under the target).

When the period holds at least ``MIN_EPISODES`` episodes of that rate, the level is counted:
seen, not extrapolated. Otherwise (0.1 a day for 18 series over 7 days is 0.04 episode each) it
is extrapolated from the peaks of the n episodes over the highest level u that
``TAIL_EPISODES`` episodes cross, as a Pareto tail: rate(h) = rate(u) (h / u)^(-1 / gamma). Its
point estimate (gamma by Hill, the mean log excess of the peaks) is a median guess, and a week
cannot pin a once-in-six-months level with it: bench/drift_false_alarms.py measured 0.38
false alarms a day for a target of 0.1. So the level is a statement with confidence. **The
rule:** the extrapolated rate is at or under the target at the upper ``TAIL_CONFIDENCE``
bound of each of its two estimates, so with confidence at least 1 - 2 (1 - ``TAIL_CONFIDENCE``)
(0.8; Bonferroni) if the tail is Pareto (``bound_tail``):

* the rate at u: n is a Poisson count, its exact upper bound the ``TAIL_CONFIDENCE`` quantile
  of Gamma(n + 1);
* gamma: for a Pareto tail, n gamma_hat / gamma is Gamma(n, 1)-distributed, so its upper bound
  is n gamma_hat / the (1 - ``TAIL_CONFIDENCE``) quantile of Gamma(n).

The threshold is u (n_upper / allowed)^gamma_upper, allowed = the series' rate x days
(``derive_level``). The further the extrapolation (a short period, a low target), the wider
the margin.

**Bounded statistics** (PSI, at most ~8.3 with ten bins; the tail shares, at most 1): a Pareto
tail has no end, so its level can lie past the statistic's reach, and that series could never
fire (measured on the demo's scale, 6 h of training: PSI thresholds 10.6-17.6, tail shares
2.8-10.2, so vol x3, which saturates them, was left to one KS series whose saturated score was
1.2-1.4; a version whose margin fell under 1 would never see it). ``derive_bounded_level``
keeps the Pareto level while it lies within the reach; past it, that tail is wrong by
construction (it puts a rate on values the statistic cannot take), and the same tail is fitted
on v = -log(1 - value / reach), where the reach is at infinity, and mapped back: a window at the
statistic's reach (every row past the reference's range) fires, and the rate statement is the
same one on that scale. When the training period's own windows sat at the reach more often than
the target allows, no level keeps the rate: the threshold is the reach, which no window crosses.
(Fitting every bounded series on that scale changed levels within the reach too: 6 false alarms
instead of 4 in 58 production days, bench/drift_false_alarms.py.)
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy import stats

MIN_EPISODES = 5  # a target of at least this many episodes is counted, not extrapolated
TAIL_EPISODES = 10  # the tail is fitted on the episodes over the highest level this many cross
TAIL_CONFIDENCE = 0.9  # each of the tail fit's two one-sided bounds (rate at u, gamma)
TAIL_FALLBACK = 2.0  # without such a level: this many times the largest value seen
FIT_LEVELS = 200  # quantile levels of the persistent statistic between the median and the max
REACH_GAP = 1e-9  # a bounded level stays this fraction under the reach, so the reach fires


def assess_persistent(values: NDArray[np.float64], steps: int) -> NDArray[np.float64]:
    """The minimum of each value and the ``steps - 1`` before it (absent values count as
    -inf: an alert's ``for`` restarts when its series goes missing)."""
    filled = np.where(np.isnan(values), -np.inf, values)
    if steps <= 1 or filled.size == 0:
        return filled
    padded = np.concatenate([np.full(steps - 1, -np.inf), filled])
    persistent: NDArray[np.float64] = sliding_window_view(padded, steps).min(axis=1)
    return persistent


def count_episodes(persistent: NDArray[np.float64], level: float) -> int:
    """Upcrossings of ``level``: alarms that a rule ``value > level`` (after ``for``) fires."""
    above = persistent > level
    return int(above[0]) + int(np.count_nonzero(above[1:] & ~above[:-1])) if above.size else 0


def measure_peaks(persistent: NDArray[np.float64], level: float) -> NDArray[np.float64]:
    """The highest value of each episode above ``level``."""
    above = persistent > level
    if not above.any():
        return np.zeros(0)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], above, [False]]).astype(np.int8)))
    return np.array([persistent[a:b].max() for a, b in zip(edges[::2], edges[1::2], strict=True)])


def bound_tail(peaks: NDArray[np.float64], u: float) -> tuple[float, float]:
    """Upper confidence bounds (``TAIL_CONFIDENCE`` each) of the episode count over ``u`` and of
    the Pareto tail's gamma, from the ``peaks`` of the episodes over ``u``."""
    n = peaks.size
    gamma_hat = float(np.mean(np.log(peaks / u)))  # Hill's estimate
    count = float(stats.gamma.ppf(TAIL_CONFIDENCE, n + 1))
    return count, n * gamma_hat / float(stats.gamma.ppf(1.0 - TAIL_CONFIDENCE, n))


def derive_level(persistent: NDArray[np.float64], days: float, per_day: float) -> float:
    """The level crossed ``per_day`` times a day: counted when the period holds at least
    ``MIN_EPISODES`` such episodes, else extrapolated from the episodes' peaks over the highest
    level that ``TAIL_EPISODES`` episodes still cross, with confidence (``bound_tail``: a Pareto
    tail, rate(h) = rate(u) (h / u)^(-1 / gamma), at the upper bounds of rate(u) and gamma)."""
    values = persistent[np.isfinite(persistent)]
    if values.size == 0 or days <= 0:
        return math.nan
    levels = np.unique(np.quantile(values, np.linspace(0.5, 1.0, FIT_LEVELS)))
    counts = np.array([count_episodes(persistent, float(h)) for h in levels])
    allowed = per_day * days
    if allowed >= MIN_EPISODES:
        return float(levels[counts <= allowed][0])
    base = levels[counts >= TAIL_EPISODES]
    if base.size == 0 or float(base[-1]) <= 0:
        return TAIL_FALLBACK * float(values.max())  # no tail to fit: well past anything seen
    u = float(base[-1])
    count, gamma = bound_tail(measure_peaks(persistent, u), u)
    return u * math.exp(gamma * math.log(max(count / allowed, 1.0)))


def derive_bounded_level(
    persistent: NDArray[np.float64], days: float, per_day: float, reach: float
) -> float:
    """``derive_level`` for a statistic that cannot exceed ``reach``: that level while it lies
    under the reach; past it, the level on the scale v = -log(1 - value / reach), under the reach
    by ``REACH_GAP`` at least, so a window at the reach fires; the reach itself (never crossed)
    when the period's windows sat at it more often than the target allows."""
    level = derive_level(persistent, days, per_day)
    edge = reach * (1.0 - REACH_GAP)
    if not level >= edge:  # within the reach (or NaN): the Pareto tail's level stands
        return level
    if count_episodes(persistent, edge) > per_day * days:
        return reach
    ratio = np.minimum(persistent / reach, 1.0 - REACH_GAP)  # -inf (absent) stays -inf
    bounded = derive_level(-np.log1p(-ratio), days, per_day)
    return reach * -math.expm1(-min(bounded, -math.log(REACH_GAP)))
