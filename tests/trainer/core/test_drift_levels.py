"""Drift thresholds' tail rule (issue 14): the confidence bounds of a Pareto tail fit and the
extrapolated level they give."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from levibot_trainer.core.drift_levels import (
    TAIL_CONFIDENCE,
    bound_tail,
    count_episodes,
    derive_bounded_level,
    derive_level,
)


def test_the_tail_bounds_are_the_exact_poisson_and_hill_bounds() -> None:
    peaks = np.full(10, 2.0 * math.e)  # ten episodes, log excess 1 over u = 2: Hill gamma 1
    count, gamma = bound_tail(peaks, 2.0)
    assert count == pytest.approx(stats.gamma.ppf(TAIL_CONFIDENCE, 11))
    assert gamma == pytest.approx(10 / stats.gamma.ppf(1 - TAIL_CONFIDENCE, 10))
    assert count > 10
    assert gamma > 1


def test_the_gamma_bound_covers_a_pareto_tail_at_its_confidence() -> None:
    """Peaks drawn from a Pareto tail of gamma 0.5: the bound is at or above 0.5 in about
    TAIL_CONFIDENCE of the draws (2,000 draws: within 3 standard errors)."""
    rng = np.random.default_rng(5)
    covered = [
        bound_tail(2.0 * np.exp(0.5 * rng.exponential(1.0, 12)), 2.0)[1] >= 0.5 for _ in range(2000)
    ]
    error = 3 * math.sqrt(TAIL_CONFIDENCE * (1 - TAIL_CONFIDENCE) / 2000)
    assert abs(np.mean(covered) - TAIL_CONFIDENCE) <= error


def test_an_extrapolated_level_lies_above_the_point_estimate() -> None:
    """The level is the bound's: past the Hill point estimate's u (n / allowed)^gamma_hat."""
    rng = np.random.default_rng(2)
    persistent = rng.pareto(3.0, 20_000) + 1.0
    level = derive_level(persistent, days=1.0, per_day=0.05)
    values = np.sort(persistent)
    u = values[-10]  # about the highest level ten episodes cross (one value each)
    point = u * (10 / 0.05) ** float(np.mean(np.log(values[-10:] / u)))
    assert level > point


def test_a_bounded_level_stays_under_the_reach_where_the_pareto_tail_passes_it() -> None:
    """Shares in [0, 1) with a heavy tail towards 1: the Pareto tail on the shares themselves
    puts a rare level past 1 (a series that never fires); on the bounded scale it stays under
    1, and a window at the reach fires."""
    rng = np.random.default_rng(3)
    shares = -np.expm1(-np.minimum(rng.pareto(1.0, 20_000) * 0.02, 15.0))
    unbounded = derive_level(shares, days=1.0, per_day=0.01)
    bounded = derive_bounded_level(shares, days=1.0, per_day=0.01, reach=1.0)
    assert unbounded > 1.0
    assert 0.5 < bounded < 1.0


def test_a_level_within_the_reach_is_the_pareto_tails() -> None:
    """A level the statistic can reach stands as ``derive_level`` gives it (counted here, with
    some windows at the reach among them: 48 of 20,000, under the 100 allowed)."""
    rng = np.random.default_rng(4)
    shares = np.minimum(rng.pareto(2.0, 20_000) * 0.05, 1.0)
    level = derive_bounded_level(shares, days=1.0, per_day=100.0, reach=1.0)
    assert level == derive_level(shares, days=1.0, per_day=100.0) < 1.0
    assert count_episodes(shares, level) <= 100


def test_a_statistic_at_its_reach_more_often_than_allowed_never_fires() -> None:
    """48 windows at the reach for 40 allowed: no level under it keeps the rate, so the level is
    the reach, which no window crosses."""
    rng = np.random.default_rng(4)
    shares = np.minimum(rng.pareto(2.0, 20_000) * 0.05, 1.0)
    level = derive_bounded_level(shares, days=1.0, per_day=40.0, reach=1.0)
    assert level == 1.0
    assert count_episodes(shares, level) == 0
