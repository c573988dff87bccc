"""The trainer's backtest (trainer core, pure): paper trading on the walk-forward test split.

The fitted model's held-out probabilities go through the serving policy (the ModelDeployment's
``spec.serving`` buy/sell thresholds) and are settled by ``levibot_common.trading`` with the
``spec.trading`` costs, by the same rules as the predictor's paper trades: one position per
symbol at a time, a fixed unit stake, closed at the horizon's price. Beside the model, two
no-skill baselines on the same rows:

- **hold**: always HOLD, no trade (the zero line a model must beat after costs);
- **buyAndHold**: long one unit per symbol over the whole test period, held as consecutive
  horizon-long positions on the same grid as the model's trades, charged the round trip once per
  symbol (holding pays nothing between horizons).

The period of the Sharpe's annualisation is the test split's span plus one horizon (the last
position closes then). ``horizon_return_std`` is the realised volatility the circuit breaker
compares with: the standard deviation of the training rows' horizon returns (every second's
``p[t + horizon] / p[t] - 1``, like the predictor's ``outcome_return``), pooled and per symbol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from levibot_common.trading import (
    Costs,
    Trades,
    TradingSummary,
    decide_signals,
    describe_summary,
    simulate_trades,
    summarize_trades,
)
from levibot_trainer.core.dataset import Rows, Split
from levibot_trainer.core.trading_noise import RetrainNoise, describe_retrain_noise

NO_COSTS = Costs(fee_bps=0.0, slippage_bps=0.0)


@dataclass(frozen=True)
class TradingPolicy:
    """The serving policy's thresholds and the paper trades' costs (from the ModelDeployment)."""

    buy_threshold: float
    sell_threshold: float
    costs: Costs


@dataclass(frozen=True)
class Backtest:
    """Paper-trading results on the test split, with the baselines and the training volatility."""

    model: TradingSummary
    hold: TradingSummary
    buy_and_hold: TradingSummary
    period_seconds: float
    horizon_return_std: float | None
    horizon_return_std_by_symbol: dict[str, float | None]
    policy: TradingPolicy
    retrain_noise: RetrainNoise | None = None  # the retrains' paired noise (``trading_noise``)


def compute_return_std(returns: NDArray[np.float64]) -> float | None:
    """Sample standard deviation of the finite returns; None with fewer than two."""
    finite = returns[np.isfinite(returns)]
    return float(np.std(finite, ddof=1)) if finite.size >= 2 else None


def charge_once_per_symbol(trades: Trades, costs: Costs) -> Trades:
    """Trades whose costs are one round trip per symbol, on its first trade (a holding)."""
    net = trades.gross.copy()
    _, first = np.unique(trades.symbol.astype(str), return_index=True)
    net[first] -= costs.round_trip()
    return Trades(trades.symbol, trades.opened_at, trades.side, trades.gross, net)


def assess_backtest(
    rows: Rows,
    split: Split,
    p_test: NDArray[np.float64],
    *,
    symbols: Sequence[str],
    horizon_seconds: int,
    policy: TradingPolicy,
) -> Backtest:
    """Model, always-HOLD and buy-and-hold paper trading on the test rows (``p_test`` in their
    order), and the training rows' horizon-return volatility."""
    if rows.horizon_return is None or rows.symbol is None:
        raise ValueError("backtest: rows were built without horizon returns and symbols")
    names = np.asarray(symbols, dtype=object)[rows.symbol]
    ts = rows.t[split.test].astype(np.float64)
    sym, ret = names[split.test], rows.horizon_return[split.test]
    period = float(ts.max() - ts.min() + horizon_seconds) if ts.size else 0.0

    def run(signals: NDArray[np.object_], costs: Costs) -> Trades:
        return simulate_trades(
            ts, sym, signals, ret, horizon_seconds=float(horizon_seconds), costs=costs
        )

    signals = decide_signals(p_test, policy.buy_threshold, policy.sell_threshold)
    longs = charge_once_per_symbol(
        run(np.full(ts.size, "BUY", dtype=object), NO_COSTS), policy.costs
    )
    train_returns, train_names = rows.horizon_return[split.train], names[split.train]
    return Backtest(
        model=summarize_trades(run(signals, policy.costs), period_seconds=period),
        hold=summarize_trades(
            run(np.full(ts.size, "HOLD", dtype=object), policy.costs), period_seconds=period
        ),
        buy_and_hold=summarize_trades(longs, period_seconds=period),
        period_seconds=period,
        horizon_return_std=compute_return_std(train_returns),
        horizon_return_std_by_symbol={
            str(s): compute_return_std(train_returns[train_names == s]) for s in symbols
        },
        policy=policy,
    )


def describe_backtest(backtest: Backtest) -> dict[str, Any]:
    """The registry's ``metrics["backtest"]``: camelCase, JSON-ready."""
    policy = backtest.policy
    return {
        "model": describe_summary(backtest.model),
        "hold": describe_summary(backtest.hold),
        "buyAndHold": describe_summary(backtest.buy_and_hold),
        "periodSeconds": backtest.period_seconds,
        "horizonReturnStd": backtest.horizon_return_std,
        "horizonReturnStdBySymbol": dict(backtest.horizon_return_std_by_symbol),
        "policy": {"buyThreshold": policy.buy_threshold, "sellThreshold": policy.sell_threshold},
        "costs": {"feeBps": policy.costs.fee_bps, "slippageBps": policy.costs.slippage_bps},
        "rules": "one position per symbol at a time, unit stake, settled at the horizon; "
        "Sharpe per trade annualised by trades per 365.25-day year at the observed rate",
        **(
            {"retrainNoise": describe_retrain_noise(backtest.retrain_noise)}
            if backtest.retrain_noise is not None
            else {}
        ),
    }


def summarize_backtest_line(backtest: Backtest) -> dict[str, dict[str, float | int | None]]:
    """A compact view for the result document and logs: trades, PnL, Sharpe, drawdown, win rate
    of the model and each baseline (rounded, to stay well inside the termination log)."""

    def brief(s: TradingSummary) -> dict[str, float | int | None]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        return {"trades": s.trades, "pnl": r(s.pnl), "sharpe": r(s.sharpe),
                "maxDrawdown": r(s.max_drawdown), "winRate": r(s.win_rate)}  # fmt: skip

    return {
        "model": brief(backtest.model),
        "hold": brief(backtest.hold),
        "buyAndHold": brief(backtest.buy_and_hold),
    }
