"""Coverage of the trading check's retraining-noise band, measured by simulation.

The market: per symbol a driftless random walk of 1-s log prices with volatility regimes
(x 0.5 / 1 / 2, ~10 min each), two symbols, one row per symbol and second. The stable goes
long or short on the sign of the last 300-s return (HOLD inside a band); the "retrain" holds
where the stable's signal is weakest (a narrower edge of the band), so the two disagree on a
share of the rows and the paired difference ``(side_r - side_s) * return`` has mean 0 and the
signals' memory. Its noise is recorded as the trainer does (long-run variance of 361-s block
means over a day of the same market, in return units, with the market's return sd); then 300
canaries of 45 min, looks after every 60-s block from ``MIN_BLOCKS``, through the check's band
(``convert_noise``, ``assess_sharpe``): the share of canaries whose band misses 0 at some look
is measured. Over 1,000 canaries: 0.093 and 0.098 (two seeds) at alpha 0.05, about twice the
nominal rate: the band is in the stable's Sharpe units, and here the stable holds most of the
time, so its position sd swings with the regime more than the retrain's noise does (scaled by
the canary's return sd instead: 0.035 and 0.046, but 5.7 % of healthy retrains rolled back on
the benchmark's seed market, against 0.2 %; ``trading_band``). The assertion allows twice
alpha plus three Monte-Carlo standard errors.
"""

import math

import numpy as np

from levibot_common.stats.blocks import compute_block_means
from levibot_common.stats.sequential import MIN_BLOCKS, estimate_long_run_variance
from levibot_common.trading import Costs
from levibot_operator.core.canary.trading_band import RetrainNoise, convert_noise
from levibot_operator.core.canary.trading_checks import (
    TradingContext,
    assess_sharpe,
    compute_position_returns,
    plan_annualisation,
    plan_risk_scale,
)
from levibot_operator.core.canary.trading_spec import TradingChecksSpec

ALPHA, REPS, HORIZON, WINDOW, BLOCK = 0.05, 300, 60, 300, 60
MC_MARGIN = 3 * math.sqrt(ALPHA * (1 - ALPHA) / REPS)
FREE = Costs(0.0, 0.0)


def _symbol(rng: np.random.Generator, seconds: int) -> tuple[np.ndarray, ...]:
    n = seconds + WINDOW + HORIZON
    regimes = np.repeat(rng.choice([0.5, 1.0, 2.0], size=n // 600 + 1), 600)[:n]
    log_price = np.concatenate([[0.0], np.cumsum(1e-4 * regimes * rng.standard_normal(n))])
    past = log_price[WINDOW : WINDOW + seconds] - log_price[:seconds]
    future = log_price[WINDOW + HORIZON : WINDOW + HORIZON + seconds]
    returns = np.exp(future - log_price[WINDOW : WINDOW + seconds]) - 1.0
    band = 2e-4 * math.sqrt(WINDOW) * 0.3
    stable = np.where(past > band, 1.0, np.where(past < -band, -1.0, 0.0))
    retrain = np.where(np.abs(past) > 1.2 * band, stable, 0.0)
    return stable, retrain, returns


def _market(rng: np.random.Generator, seconds: int) -> tuple[np.ndarray, ...]:
    parts = [_symbol(rng, seconds) for _ in range(2)]
    ts = np.repeat(np.arange(seconds, dtype=float), 2)
    stable, retrain, returns = (np.stack([p[i] for p in parts], axis=1).ravel() for i in range(3))
    return (ts, compute_position_returns(stable, returns, FREE),
            compute_position_returns(retrain, returns, FREE), returns)  # fmt: skip


def _recorded(rng: np.random.Generator) -> RetrainNoise:
    """As the trainer records it: in return units, with the market's return sd."""
    ts, stable, retrain, returns = _market(rng, 86_400)
    blocks = compute_block_means(ts, retrain - stable, 361.0)
    rate = estimate_long_run_variance(blocks.means, lags=1) * 361.0
    return RetrainNoise(0.0, math.sqrt(rate / 3600.0), float(np.std(returns, ddof=1)),
                        float(np.std(stable, ddof=1)))  # fmt: skip


def _missed(rng: np.random.Generator, noise: RetrainNoise) -> bool:
    seconds = 2700
    ts, stable, retrain, _ = _market(rng, seconds)
    planned = seconds // BLOCK
    for k in range(MIN_BLOCKS, planned + 1):
        now = float(k * BLOCK)
        keep = ts < now - HORIZON  # resolved rows only
        blocks = compute_block_means(ts[keep], (retrain - stable)[keep], BLOCK)
        scale = plan_risk_scale(stable[keep], retrain[keep])
        converted = convert_noise(noise, plan_annualisation(HORIZON))
        ctx = TradingContext(now, 0.0, BLOCK, HORIZON, FREE, ALPHA, planned, alone=True,
                             noise=converted)  # fmt: skip
        check = assess_sharpe(blocks, scale, TradingChecksSpec(), ctx)
        if blocks.n_eff >= MIN_BLOCKS and not check.lower <= 0.0 <= check.upper:
            return True
    return False


def test_a_healthy_retrain_stays_in_the_band_at_every_look_but_alpha() -> None:
    rng = np.random.default_rng(2016)
    noise = _recorded(rng)
    assert noise.hourly > 0.0
    misses = sum(_missed(rng, noise) for _ in range(REPS))
    assert misses / REPS <= 2 * ALPHA + MC_MARGIN  # anti-conservative here, see the docstring
