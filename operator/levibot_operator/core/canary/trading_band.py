"""The retraining-noise band of the trading check (issue 15): what a healthy retrain does.

Layer: core (pure), in ``canary``; used by ``trading_checks`` (see its docstring for why the
band, and not the candidate's own interval, judges a stable that recorded its noise). The
stable version's registry ``backtest.retrainNoise`` (``levibot_trainer.core.trading_noise``) is
the largest expected paired difference of the recipe's K retrains (``margin``), the largest sd
of the mean difference over an hour of paired rows (``hourly``), both per position in return
units, and the test split's horizon-return sd (``returnSd``). Here it becomes the check's units
(``convert_noise``), its effective margins (``plan_margins``) and the band's half-width at a
look (``plan_band``).

Units. The check shows annualised Sharpe units: per position, over the stable's position sd on
the counted rows, times ``sqrt(year / horizon)``; the recorded margin and noise are taken in the
version's Sharpe units (over ``positionSd``), so both follow the stable's position sd, which
moves with the market's volatility and with how often the stable trades. Measured, three ways
(``bench/gate_error_rates.py --checks trading``, 600 canaries, healthy retrains rolled back; and
``tests/operator/core/canary/test_trading_band_coverage.py``, a no-cost regime market where the
stable holds most of the time, share of canaries whose band missed 0 at alpha 0.05): both in
Sharpe units, 0.2 % and 0.093-0.098; the noise scaled by the canary's return sd instead, 5.7 %
and 0.035-0.046; the margin in return units too, 5.0 %. The first is what the seed market
needs; the second shows that the band is anti-conservative when a stable mostly holds.
"""

import math
from dataclasses import dataclass

from levibot_common.stats.blocks import BlockMeans
from levibot_common.stats.sequential import compute_sequence_margin, plan_rho
from levibot_operator.core.canary.trading_spec import TradingChecksSpec


@dataclass(frozen=True)
class RetrainNoise:
    """The stable's recorded retraining noise of the paired difference
    (``levibot_trainer.core.trading_noise``): ``margin``, ``hourly`` the sd of the mean
    difference over one hour of paired rows, ``position_sd`` the stable's position sd they are
    converted by and ``return_sd`` the market's sd they were measured in (carried as recorded:
    the conversion does not scale by volatility); as recorded in return units, or in the check's
    units after ``convert_noise``."""

    margin: float
    hourly: float
    return_sd: float = 0.0  # 0: converted (or no volatility to scale by)
    position_sd: float = 0.0  # 0: converted (the margin is in the check's units already)


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


def convert_noise(noise: RetrainNoise | None, annualisation: float) -> RetrainNoise | None:
    """The recorded noise in the check's units: both numbers in the version's Sharpe units (over
    its recorded position sd), as the check's estimate is over the stable's position sd on the
    counted rows, times ``annualisation``. Not scaled by the canary's volatility: measured, that
    rolled back more healthy retrains (see the module docstring)."""
    if noise is None:
        return None
    own = noise.position_sd if noise.position_sd > 0.0 else 1.0
    return RetrainNoise(noise.margin / own * annualisation, noise.hourly / own * annualisation)
