"""Fixed-n and anytime-valid intervals, the non-inferiority verdicts: hand values, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from levibot_common.stats.blocks import BlockMeans
from levibot_common.stats.results import Verdict
from levibot_common.stats.sequential import (
    MIN_BLOCKS,
    assess_noninferiority,
    compute_confidence_sequence,
    compute_fixed_interval,
    compute_sequence_margin,
    estimate_long_run_variance,
    plan_rho,
)


def _blocks(means: list[float] | np.ndarray) -> BlockMeans:
    m = np.asarray(means, dtype=np.float64)
    return BlockMeans(np.arange(len(m)) * 120.0, m, np.full(len(m), 1200), 120.0)


def test_long_run_variance_by_hand() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    # g0 = 5/3, g1 = (0.75 - 0.25 + 0.75) / 3 = 5/12: g0 + 2 g1 = 2.5
    assert estimate_long_run_variance(x, lags=0) == pytest.approx(5 / 3)
    assert estimate_long_run_variance(x) == pytest.approx(2.5)
    # A negative autocovariance never narrows the interval below the independent-blocks one.
    assert estimate_long_run_variance(np.array([1.0, -1.0, 1.0, -1.0])) == pytest.approx(4 / 3)
    assert estimate_long_run_variance(np.array([3.0])) == 0.0


def test_rho_and_margin_by_hand() -> None:
    # rho^2 = (-2 log 0.05 + log(1 - 2 log 0.05)) / 100 = (5.99146 + 1.94470) / 100
    rho = plan_rho(100, 0.05)
    assert rho == pytest.approx(math.sqrt(0.0793616), rel=1e-5)
    r2 = rho * rho
    spread = 100 * r2 + 1
    expected = math.sqrt(2 * spread / (100**2 * r2) * math.log(math.sqrt(spread) / 0.05))
    assert compute_sequence_margin(100, rho, 0.05) == pytest.approx(expected)
    assert compute_sequence_margin(100, rho, 0.05) == pytest.approx(0.30352, rel=1e-4)


def test_fixed_interval_by_hand() -> None:
    ci = compute_fixed_interval(np.array([1.0, 2.0, 3.0, 4.0]), 0.05, lags=0)
    half = 1.959964 * math.sqrt(5 / 3 / 4)
    assert (ci.estimate, ci.n) == (2.5, 4)
    assert ci.lower == pytest.approx(2.5 - half, rel=1e-6)
    assert ci.upper == pytest.approx(2.5 + half, rel=1e-6)


def test_confidence_sequence_is_wider_than_the_one_look_interval() -> None:
    x = np.random.default_rng(0).standard_normal(50)
    cs = compute_confidence_sequence(x, 0.05, plan_rho(50, 0.05))
    fixed = compute_fixed_interval(x, 0.05)
    assert cs.lower < fixed.lower < fixed.upper < cs.upper


@pytest.mark.parametrize(
    ("centre", "verdict"),
    [(-0.05, Verdict.PASS), (0.05, Verdict.FAIL), (0.01, Verdict.INCONCLUSIVE)],
)
def test_noninferiority_verdicts(centre: float, verdict: Verdict) -> None:
    noise = np.random.default_rng(1).standard_normal(40) * 0.01
    result = assess_noninferiority(_blocks(centre + noise), 0.01, 0.05, planned_blocks=40)
    assert result.verdict is verdict
    assert result.lower <= result.estimate <= result.upper
    assert (result.n, result.n_eff, result.threshold) == (48_000, 40, 0.01)
    assert "tolerance" in result.reason


def test_noninferiority_waits_for_enough_blocks() -> None:
    few = _blocks([-1.0] * (MIN_BLOCKS - 1))
    result = assess_noninferiority(few, 0.01, 0.05, planned_blocks=40)
    assert result.verdict is Verdict.WAITING
    assert (result.lower, result.upper) == (-math.inf, math.inf)
    assert f"waiting for {MIN_BLOCKS} finished blocks of 120 s" in result.reason


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1])
def test_alpha_outside_zero_one_is_rejected(alpha: float) -> None:
    with pytest.raises(ValueError, match="alpha"):
        plan_rho(10, alpha)


_samples = st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=80)


@settings(max_examples=80, deadline=None)
@given(x=_samples, alpha=st.floats(0.001, 0.5), lags=st.integers(0, 3))
def test_bounds_are_ordered(x: list[float], alpha: float, lags: int) -> None:
    values = np.array(x)
    for ci in (
        compute_fixed_interval(values, alpha, lags=lags),
        compute_confidence_sequence(values, alpha, plan_rho(20, alpha), lags=lags),
    ):
        assert ci.lower <= ci.estimate + 1e-9
        assert ci.estimate <= ci.upper + 1e-9


@settings(max_examples=80, deadline=None)
@given(t=st.integers(1, 10**6), planned=st.integers(1, 10**4), alpha=st.floats(0.001, 0.3))
def test_sequence_margin_shrinks_with_n(t: int, planned: int, alpha: float) -> None:
    rho = plan_rho(planned, alpha)
    assert compute_sequence_margin(t + 1, rho, alpha) < compute_sequence_margin(t, rho, alpha)


@settings(max_examples=60, deadline=None)
@given(x=st.lists(st.floats(-10, 10), min_size=3, max_size=40), alpha=st.floats(0.01, 0.3))
def test_more_of_the_same_data_gives_a_narrower_interval(x: list[float], alpha: float) -> None:
    once, twice = np.array(x), np.tile(np.array(x), 2)
    if np.ptp(once) < 1e-6:
        return
    a, b = (compute_fixed_interval(v, alpha, lags=0) for v in (once, twice))
    assert b.upper - b.lower < a.upper - a.lower
