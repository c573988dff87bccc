"""The retraining-noise band of the trading check (issue 15): what a healthy retrain does.

Layer: core (pure), in ``canary``; used by ``trading_checks`` (see its docstring for why the
band, and not the candidate's own interval, judges a stable that recorded its noise). The
stable version's registry ``backtest.retrainNoise`` (``levibot_trainer.core.trading_noise``) is
the largest expected paired difference of the recipe's K retrains (``margin``) and the largest
sd of that difference over an hour of paired rows (``hourly``), both annualised per unit of the
market's horizon-return sd. Here it becomes the check's effective margins (``plan_margins``),
its units (``convert_noise``: the canary's own volatility, the stable's position sd) and the
band's half-width at a look (``plan_band``).
"""

import math
from dataclasses import dataclass

from levibot_common.stats.blocks import BlockMeans
from levibot_common.stats.sequential import compute_sequence_margin, plan_rho
from levibot_operator.core.canary.trading_spec import TradingChecksSpec


@dataclass(frozen=True)
class RetrainNoise:
    """The stable's recorded retraining noise of the annualised paired difference
    (``levibot_trainer.core.trading_noise``): ``margin``, and ``hourly`` the sd of the
    difference over one hour of paired rows; as recorded, per unit of the market's horizon-return
    sd (``convert_noise`` turns it into the check's Sharpe units on the counted rows)."""

    margin: float
    hourly: float


def plan_margins(spec: TradingChecksSpec, noise: RetrainNoise | None) -> tuple[float, float]:
    """The effective (rollback, promote) margins: the spec's; with a recorded noise, the wider
    of the spec's and its margin to roll back, and never a pass (the band says only worse)."""
    if noise is None:
        return spec.rollback_sharpe_delta, spec.promote_sharpe_delta
    return max(spec.rollback_sharpe_delta, noise.margin), math.inf


def plan_band(blocks: BlockMeans, noise: RetrainNoise, planned_blocks: int, alpha: float
              ) -> float:  # fmt: skip
    """Half-width of the band a healthy retrain's difference stays in at every look: the
    recorded noise as a per-block sd, times the confidence sequence's unit margin (tightest at
    ``planned_blocks``)."""
    per_block = noise.hourly * math.sqrt(3600.0 / blocks.block_seconds)
    rho = plan_rho(max(planned_blocks, 1), alpha)
    return per_block * compute_sequence_margin(blocks.n_eff, rho, alpha)


def convert_noise(noise: RetrainNoise | None, market_sd: float, scale: float
                  ) -> RetrainNoise | None:  # fmt: skip
    """The recorded noise (per unit of the market's horizon-return sd) in the check's units (per
    unit of the stable's position sd ``scale``), both measured on the counted rows."""
    if noise is None:
        return None
    ratio = market_sd / scale if market_sd > 0.0 else 1.0
    return RetrainNoise(noise.margin * ratio, noise.hourly * ratio)
