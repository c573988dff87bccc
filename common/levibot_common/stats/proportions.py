"""Intervals for a binomial proportion (shared core, pure).

The Wilson score interval (Wilson 1927, "Probable inference, the law of succession, and
statistical inference", JASA 22): the set of ``p`` with ``|phat - p| <= z sqrt(p (1 - p) / n)``,
solved exactly:

    (x + z^2/2) / (n + z^2)  +-  z / (n + z^2) * sqrt(x (n - x) / n + z^2 / 4),

with ``z = z_{1-alpha/2}``. It stays inside [0, 1], is never empty at ``x = 0`` or ``x = n``, and
covers close to nominal even for small n (Brown, Cai & DasGupta 2001, Statist. Sci. 16). The
trials must be independent: count independent units (e.g. trades in separate blocks), not rows.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from levibot_common.stats.results import Interval


def compute_wilson_interval(successes: int, trials: int, alpha: float) -> Interval:
    """The Wilson score interval for ``successes`` out of ``trials`` at level ``1 - alpha``.

    With no trials the estimate is NaN and the interval is [0, 1].
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"proportions: alpha must be in (0, 1), got {alpha}")
    if trials < 0 or not 0 <= successes <= max(trials, 0):
        raise ValueError(f"proportions: need 0 <= successes <= trials, got {successes}/{trials}")
    if trials == 0:
        return Interval(math.nan, 0.0, 1.0, 0)
    z = NormalDist().inv_cdf(1.0 - alpha / 2.0)
    z2, n, x = z * z, float(trials), float(successes)
    centre = (x + z2 / 2.0) / (n + z2)
    half = z / (n + z2) * math.sqrt(x * (n - x) / n + z2 / 4.0)
    return Interval(x / n, max(0.0, centre - half), min(1.0, centre + half), trials)
