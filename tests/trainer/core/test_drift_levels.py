"""Drift thresholds' tail rule (issue 14): the confidence bounds of a Pareto tail fit and the
extrapolated level they give."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from levibot_trainer.core.drift_levels import TAIL_CONFIDENCE, bound_tail, derive_level


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
