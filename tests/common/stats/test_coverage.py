"""Coverage of the intervals, measured by simulation against the nominal level.

The market: a random walk of 1-s closes, 10 requests/s, a 60-s horizon (successive labels
overlap) and a feature with ~30 s memory; blocks of 120 s (horizon + feature window). The value
is a paired log-loss difference, candidate (inverted) minus stable, whose true mean is 0 by
symmetry. 400 markets with a fixed seed; every assertion allows three Monte-Carlo standard errors.
The last test is stage 1's short blocks: a squared p_up difference driven by a 300-s return.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from levibot_common.stats.blocks import compute_block_means
from levibot_common.stats.results import FloatArray
from levibot_common.stats.sequential import (
    MIN_BLOCKS,
    compute_confidence_sequence,
    compute_fixed_interval,
    plan_rho,
)
from tests.common.stats.markets import log_loss, simulate_markets

ALPHA = 0.05
REPS = 400
BLOCK_S = 120
BLOCKS = 60
MC_MARGIN = 3 * math.sqrt(ALPHA * (1 - ALPHA) / REPS)  # 0.033


def _loss_difference(x: FloatArray, y: FloatArray) -> FloatArray:
    stable = 1.0 / (1.0 + np.exp(-0.8 * x))
    return log_loss(1.0 - stable, y) - log_loss(stable, y)


@pytest.fixture(scope="module")
def differences() -> FloatArray:
    """Per-second loss differences, ``REPS x (BLOCKS * BLOCK_S)`` (10 rows share each second)."""
    markets = simulate_markets(np.random.default_rng(20261), REPS, BLOCKS * BLOCK_S)
    return _loss_difference(markets.x, markets.y)


def _block_means(per_second: FloatArray) -> FloatArray:
    t = np.arange(len(per_second), dtype=np.float64)
    return compute_block_means(t, per_second, BLOCK_S).means


def test_naive_per_row_interval_under_covers_badly(differences: FloatArray) -> None:
    markets = simulate_markets(np.random.default_rng(7), 1, 10)  # only for its rate
    hits = 0
    for per_second in differences[:, : 40 * BLOCK_S]:
        _, rows = markets.rows(per_second)  # 48,000 rows, 10 per second
        ci = compute_fixed_interval(rows, ALPHA, lags=0)
        hits += ci.lower <= 0.0 <= ci.upper
    assert hits / REPS < 0.5  # measured 0.08: the rows hold ~40 independent outcomes, not 48,000


def test_block_interval_covers_at_the_nominal_level(differences: FloatArray) -> None:
    hits = 0
    for per_second in differences[:, : 40 * BLOCK_S]:
        ci = compute_fixed_interval(_block_means(per_second), ALPHA)
        hits += ci.lower <= 0.0 <= ci.upper
    assert hits / REPS >= 1 - ALPHA - MC_MARGIN  # measured 0.94 (0.93 with lags=0)


def _missed_at_some_look(means: FloatArray, sequential: bool) -> bool:
    rho = plan_rho(BLOCKS, ALPHA)
    for t in range(MIN_BLOCKS, len(means) + 1):
        ci = (
            compute_confidence_sequence(means[:t], ALPHA, rho)
            if sequential
            else compute_fixed_interval(means[:t], ALPHA)
        )
        if not ci.lower <= 0.0 <= ci.upper:
            return True
    return False


def test_confidence_sequence_misses_at_most_alpha_over_all_looks(
    differences: FloatArray,
) -> None:
    means = [_block_means(per_second) for per_second in differences]
    misses = sum(_missed_at_some_look(m, sequential=True) for m in means)
    assert misses / REPS <= ALPHA + MC_MARGIN  # measured 0.04 over 53 looks
    peeking = sum(_missed_at_some_look(m, sequential=False) for m in means)
    assert peeking / REPS > 2 * ALPHA  # a one-look interval read at every block: measured 0.29


def _short_block_misses(bounded: bool, reps: int = 200) -> float:
    """Stage 1's setting: the mean of a squared p_up difference driven by a 300-s return, in
    30-s blocks (11 lags), looked at after every block from ``lags + 2`` over a 45-min budget."""
    rng, window, block, seconds, lags = np.random.default_rng(31), 300, 30, 2700, 11
    grid = np.linspace(-8.0, 8.0, 20001)
    weights = np.exp(-grid * grid / 2.0) / np.exp(-grid * grid / 2.0).sum()

    def squared(z: FloatArray) -> FloatArray:
        return (1.0 / (1.0 + np.exp(-0.6 * z)) - 1.0 / (1.0 + np.exp(-0.4 * z))) ** 2

    truth = float((squared(grid) * weights).sum())
    walk = np.cumsum(rng.standard_normal((reps, seconds + window)), axis=1)
    feature = (walk[:, window:] - walk[:, :seconds]) / math.sqrt(window)
    t, rho, misses = np.arange(seconds, dtype=np.float64), plan_rho(seconds // block, ALPHA), 0
    for per_second in squared(feature):
        means = compute_block_means(t, per_second, block).means
        for k in range(lags + 2, len(means) + 1):
            ci = compute_confidence_sequence(means[:k], ALPHA, rho, lags=lags, bounded=bounded)
            if not ci.lower <= truth <= ci.upper:
                misses += 1
                break
    return misses / reps


def test_short_blocks_need_the_variance_bound() -> None:
    assert _short_block_misses(bounded=False) > 0.4  # measured 0.53: autocovariances too short
    assert _short_block_misses(bounded=True) <= 2 * ALPHA  # measured 0.06 (nominal 0.05)
