"""Assess the circuit breakers of the serving version from its paper trades (issue 15, 4).

Layer: core (pure). The shell reads the serving version's resolved predictions (bounded: the
breakers' window, since the last reset) and settles them with ``levibot_common.trading``; this
module turns those trades, and the market's recent horizon returns, into one ``Reading`` per
enabled breaker. ``core.modeldeployment.breaker_state`` decides what a reading means for the
ModelDeployment (trip, keep, reset).

- **winRate**: over the last ``trades`` trades (no fewer), the Wilson 95 % interval of the win
  rate; trips when its *upper* bound is below ``minimum``. A point estimate of 7/20 = 35 % does
  not trip (the interval reaches 0.57), 3/20 does (upper bound 0.36).
- **drawdown**: the current fall of the cumulative net PnL below its running peak (the curve
  starts at 0), a fraction of the unit stake; trips above ``maximum``.
- **losingStreak**: trailing trades whose net return is <= 0; trips at ``trades``.
- **volatility**: the standard deviation (ddof 1) of the market's horizon returns over its own
  window against the training period's (the registry's ``backtest.horizonReturnStd``); trips
  above ``multiple`` x. No reading without the training figure or ``min_samples`` returns.
"""

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from levibot_common.stats.proportions import compute_wilson_interval
from levibot_common.trading import Trades, equity_curve
from levibot_operator.core.modeldeployment.breaker_spec import CircuitBreakers

WIN_RATE = "winRate"
DRAWDOWN = "drawdown"
LOSING_STREAK = "losingStreak"
VOLATILITY = "volatility"
BREAKERS = (WIN_RATE, DRAWDOWN, LOSING_STREAK, VOLATILITY)
WILSON_ALPHA = 0.05


@dataclass(frozen=True)
class TradingInput:
    """What the breakers judge: the serving version's trades in the window (oldest first) and
    the market's recent horizon returns with the training period's standard deviation."""

    trades: Trades
    market_returns: NDArray[np.float64]
    training_std: float | None


@dataclass(frozen=True)
class Reading:
    """One breaker's measure: its value (None: not enough data), its limit, whether it trips."""

    breaker: str
    value: float | None
    limit: float
    tripped: bool
    message: str


def assess_win_rate(net: NDArray[np.float64], minimum: float, count: int) -> Reading:
    """Win rate of the last ``count`` trades, judged by its Wilson upper bound."""
    if net.size < count:
        text = f"{net.size}/{count} trades: not judged yet"
        return Reading(WIN_RATE, None, minimum, False, text)
    last = net[-count:]
    wins = int(np.count_nonzero(last > 0))
    interval = compute_wilson_interval(wins, count, WILSON_ALPHA)
    tripped = interval.upper < minimum
    text = (
        f"win rate {wins}/{count} = {wins / count:.0%}, 95% interval "
        f"[{interval.lower:.2f}, {interval.upper:.2f}] {'below' if tripped else 'reaches'} "
        f"{minimum:.0%}"
    )
    return Reading(WIN_RATE, interval.upper, minimum, tripped, text)


def assess_drawdown(trades: Trades, maximum: float) -> Reading:
    """The current drawdown of the paper equity curve against ``maximum``."""
    curve = equity_curve(trades)
    peak = max(0.0, float(np.max(curve))) if curve.size else 0.0
    value = peak - float(curve[-1]) if curve.size else 0.0
    tripped = value > maximum
    text = f"drawdown {value:.1%} of the stake ({'above' if tripped else 'within'} {maximum:.0%})"
    return Reading(DRAWDOWN, value, maximum, tripped, text)


def count_losing_streak(net: NDArray[np.float64]) -> int:
    """The number of trailing trades whose net return is <= 0."""
    wins = np.flatnonzero(net > 0)
    return int(net.size - (wins[-1] + 1)) if wins.size else int(net.size)


def assess_losing_streak(net: NDArray[np.float64], limit: int) -> Reading:
    """Trailing losing trades against ``limit``."""
    streak = count_losing_streak(net)
    tripped = streak >= limit
    text = f"{streak} losing trades in a row (limit {limit})"
    return Reading(LOSING_STREAK, float(streak), float(limit), tripped, text)


def assess_volatility(
    returns: NDArray[np.float64], training_std: float | None, multiple: float, least: int
) -> Reading:
    """Realised horizon-return volatility as a multiple of the training period's."""
    finite = returns[np.isfinite(returns)]
    if training_std is None or not training_std > 0 or finite.size < max(least, 2):
        text = f"{finite.size} returns, training volatility {training_std}: not judged"
        return Reading(VOLATILITY, None, multiple, False, text)
    ratio = float(np.std(finite, ddof=1)) / training_std
    tripped = math.isfinite(ratio) and ratio > multiple
    text = f"volatility {ratio:.2f}x the training period's (limit {multiple:g}x)"
    return Reading(VOLATILITY, ratio, multiple, tripped, text)


def assess_breakers(data: TradingInput, spec: CircuitBreakers) -> tuple[Reading, ...]:
    """One reading per enabled breaker, in the order of ``BREAKERS``."""
    net = np.asarray(data.trades.net, dtype=np.float64)
    readings: list[Reading] = []
    if spec.win_rate.enabled:
        readings.append(assess_win_rate(net, spec.win_rate.minimum, spec.win_rate.trades))
    if spec.drawdown.enabled:
        readings.append(assess_drawdown(data.trades, spec.drawdown.maximum))
    if spec.losing_streak.enabled:
        readings.append(assess_losing_streak(net, spec.losing_streak.trades))
    if spec.volatility.enabled:
        vol = spec.volatility
        readings.append(
            assess_volatility(data.market_returns, data.training_std, vol.multiple, vol.min_samples)
        )
    return tuple(readings)
