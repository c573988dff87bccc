"""The retraining noise of paired paper returns (trainer core, pure): what a healthy retrain's
trading looks like beside this version's, for the canary's trading check (issue 15).

The canary's trading check (``levibot_operator.core.canary.trading_checks``) compares the
candidate's paper returns with the stable's on the same requests, as an annualised Sharpe
difference. Whether a difference is "worse than a healthy retrain" needs the same kind of
measured statement as stage 1's envelope, and the trainer measures it with the same retrains:
the ``K`` clones of the recipe fitted on shifted windows of the training period
(``envelope``), scored on the held-out test rows, each paired with this version's own
predictions on those rows. Per row and version, a unit paper position over the horizon by the
serving policy, ``side * horizon_return - round_trip * |side|`` (the ModelDeployment's costs);
per retrain ``k`` the row difference retrain minus version (a fraction of the unit stake), cut
into time blocks of ``block_seconds`` (horizon + the longest feature window: the products carry
the signals' memory, and the cost term is a function of the signals alone).

Four numbers, the first two the largest over the K retrains, in return units (the check
converts them to its annualised Sharpe units by the recorded ``position_sd``, ``trading_band``):

- ``margin``: max_k |mean difference|: how far a healthy retrain's expected paper return sits
  from the version's (mostly one trades a little more often and pays the round trip); the check
  takes it in the version's Sharpe units (``/ position_sd``), which follow how much and how
  often the stable trades in the canary's market;
- ``hourly``: max_k sqrt(long-run variance rate / 3600 s): the standard deviation of the mean
  difference over one hour of paired rows (block means,
  ``levibot_common.stats.sequential.estimate_long_run_variance`` with one lag), also taken in
  the version's Sharpe units (``trading_band`` says why, with the measured alternatives);
- ``position_sd`` (the units to convert from) and ``return_sd``: the standard deviations of
  the version's position returns on the test rows and of their horizon returns (a reading).

Not doubled as the envelope is: the retrains' 2/3-long windows already make them differ from
the version more than the next nightly retrain does. Measured on ``bench/gate_error_rates.py``'s
seed market (7-day window, 60-s horizon, 10 + 5 bps, markets 1000-1002; in the check's
annualised Sharpe units over each test split and the next day): margin 22 / 16 / 10
against a nightly retrain's true difference of -6.0 / -2.9 / -1.3 over the next day, hourly
5.6 / 6.6 / 7.8 against its 3.2 / 3.7 / 2.3. The benchmark's healthy false rollbacks are the
check of that choice.

The registry stores them in ``metrics["backtest"]["retrainNoise"]``. None when the test rows
cannot say (fewer than ``MIN_NOISE_BLOCKS`` blocks, a flat market, or a version that never
trades).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from levibot_common.stats.blocks import compute_block_means
from levibot_common.stats.sequential import estimate_long_run_variance
from levibot_common.trading import Costs, decide_signals, encode_signals

MIN_NOISE_BLOCKS = 8
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class RetrainNoise:
    """Retraining noise of the annualised paired Sharpe difference (see the module docstring)."""

    margin: float  # mean difference per position, a fraction of the unit stake
    hourly: float  # sd of the mean difference over one hour of paired rows
    return_sd: float  # sd of the test rows' horizon returns
    position_sd: float  # sd of the version's position returns on them
    retrains: int
    block_seconds: float


def compute_position_returns(
    p_up: FloatArray, returns: FloatArray, buy: float, sell: float, costs: Costs
) -> FloatArray:
    """Per row: the serving policy's unit position over the horizon, net of the round trip."""
    side = encode_signals(decide_signals(p_up, buy, sell)).astype(np.float64)
    return np.asarray(side * returns - costs.round_trip() * np.abs(side), dtype=np.float64)


def measure_difference(
    ts: FloatArray, difference: FloatArray, block_seconds: float
) -> tuple[float, float, int]:
    """Mean of the block means, their long-run variance rate (per second) and the block count."""
    blocks = compute_block_means(ts, difference, block_seconds)
    variance = estimate_long_run_variance(blocks.means, lags=1)
    return float(blocks.means.mean()), variance * block_seconds, blocks.n_eff


def measure_retrain_noise(
    ts: FloatArray,
    returns: FloatArray,
    p_version: FloatArray,
    p_retrains: FloatArray,
    *,
    policy: tuple[float, float, Costs],
    block_seconds: float,
) -> RetrainNoise | None:
    """The noise of ``K x n`` retrains' paired paper returns against the version's on the
    same ``n`` test rows (``policy``: buy and sell thresholds, costs)."""
    buy, sell, costs = policy
    keep = np.isfinite(returns)
    ts, returns = ts[keep], returns[keep]
    own = compute_position_returns(p_version[keep], returns, buy, sell, costs)
    scale = float(np.std(returns, ddof=1)) if returns.size >= 2 else 0.0
    if scale <= 0.0 or not np.any(own):
        return None
    found = [
        measure_difference(
            ts, compute_position_returns(p[keep], returns, buy, sell, costs) - own, block_seconds
        )
        for p in p_retrains
    ]
    if not found or min(n for _, _, n in found) < MIN_NOISE_BLOCKS:
        return None
    margin = max(abs(mean) for mean, _, _ in found)
    hourly = math.sqrt(max(rate for _, rate, _ in found) / 3600.0)
    position_sd = float(np.std(own, ddof=1))
    return RetrainNoise(margin, hourly, scale, position_sd, len(found), block_seconds)


def describe_retrain_noise(noise: RetrainNoise) -> dict[str, Any]:
    """The registry's ``metrics["backtest"]["retrainNoise"]``: camelCase, JSON-ready."""
    return {
        "margin": noise.margin,
        "hourly": noise.hourly,
        "returnSd": noise.return_sd,
        "positionSd": noise.position_sd,
        "units": "paired return per position, fraction of the unit stake",
        "retrains": noise.retrains,
        "blockSeconds": noise.block_seconds,
    }
