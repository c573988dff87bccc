"""Paper trading (issue 15 acceptance): hand-computed equity curves and the simulation's rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from levibot_common.trading import (
    SECONDS_PER_YEAR,
    Costs,
    Trades,
    compute_max_drawdown,
    decide_signals,
    describe_summary,
    equity_curve,
    simulate_trades,
    summarize_trades,
)
from levibot_predictor.core.policy import Thresholds, decide_signal

NO_COSTS = Costs(fee_bps=0.0, slippage_bps=0.0)


def make_trades(gross: list[float], costs: Costs = NO_COSTS) -> Trades:
    """Trades of one symbol one horizon apart with the given gross returns (all long)."""
    n = len(gross)
    return simulate_trades(
        np.arange(n, dtype=np.float64) * 60.0,
        ["BTCUSDT"] * n,
        ["BUY"] * n,
        np.array(gross),
        horizon_seconds=60.0,
        costs=costs,
    )


# Four trades, 10 bps fee + 5 bps slippage a side: net = gross - 0.003.
# gross  0.020 -0.010  0.030 -0.020   net  0.017 -0.013  0.027 -0.023
# equity 0.017  0.004  0.031  0.008   peak 0.017  0.017  0.031  0.031   fall 0 .013 0 .023
FOUR = [0.02, -0.01, 0.03, -0.02]


def test_fee_and_slippage_are_charged_on_both_sides_exactly() -> None:
    costs = Costs(fee_bps=10.0, slippage_bps=5.0)
    assert costs.round_trip() == pytest.approx(0.003, abs=1e-18)
    trades = make_trades(FOUR, costs)
    assert trades.gross.tolist() == FOUR
    assert trades.net == pytest.approx([0.017, -0.013, 0.027, -0.023], abs=1e-15)
    assert make_trades(FOUR).net.tolist() == FOUR  # no costs: net is gross
    assert Costs().round_trip() == pytest.approx(0.003)  # the defaults: 10 + 5 bps a side


def test_equity_curve_drawdown_and_profit_factor_by_hand() -> None:
    trades = make_trades(FOUR, Costs(fee_bps=10.0, slippage_bps=5.0))
    assert equity_curve(trades) == pytest.approx([0.017, 0.004, 0.031, 0.008], abs=1e-15)
    summary = summarize_trades(trades, period_seconds=SECONDS_PER_YEAR / 25)
    assert summary.max_drawdown == pytest.approx(0.023, abs=1e-15)
    assert summary.profit_factor == pytest.approx(0.044 / 0.036, abs=1e-12)
    assert summary.pnl == pytest.approx(0.008, abs=1e-15)
    assert summary.average_trade == pytest.approx(0.002, abs=1e-15)
    assert (summary.trades, summary.wins, summary.win_rate) == (4, 2, 0.5)


def test_sharpe_is_per_trade_and_annualised_by_the_observed_trade_rate() -> None:
    trades = make_trades(FOUR, Costs(fee_bps=10.0, slippage_bps=5.0))
    # 4 trades in 1/25 of a year: 100 trades a year, sqrt(100) = 10.
    # mean 0.002; deviations +-0.015, +-0.025: variance (2 * 0.000225 + 2 * 0.000625) / 3
    summary = summarize_trades(trades, period_seconds=SECONDS_PER_YEAR / 25)
    assert summary.sharpe == pytest.approx(0.002 / math.sqrt(0.0017 / 3) * 10, abs=1e-12)
    # the same trades over four times the period: a quarter of the rate, half the Sharpe
    slower = summarize_trades(trades, period_seconds=4 * SECONDS_PER_YEAR / 25)
    assert slower.sharpe == pytest.approx(summary.sharpe / 2, abs=1e-12)


def test_the_win_rate_interval_is_wilsons() -> None:
    summary = summarize_trades(make_trades(FOUR), period_seconds=3600)
    # Wilson 95 % for 2 of 4: 0.5 +- z / (4 + z^2) * sqrt(1 + z^2 / 4), z = 1.959964
    z = 1.959963984540054
    half = z / (4 + z * z) * math.sqrt(1 + z * z / 4)
    assert summary.win_rate_low == pytest.approx(0.5 - half, abs=1e-12)
    assert summary.win_rate_high == pytest.approx(0.5 + half, abs=1e-12)
    assert summary.win_rate_low == pytest.approx(0.15004, abs=1e-5)  # published tables


def test_a_zero_net_trade_is_not_a_win_and_no_loss_means_no_profit_factor() -> None:
    summary = summarize_trades(make_trades([0.01, 0.0, 0.02]), period_seconds=3600)
    assert (summary.wins, summary.profit_factor, summary.max_drawdown) == (2, None, 0.0)


def test_undefined_sharpe_and_empty_summary() -> None:
    assert summarize_trades(make_trades([0.01]), period_seconds=3600).sharpe is None
    assert summarize_trades(make_trades([0.01, 0.01]), period_seconds=3600).sharpe is None
    assert summarize_trades(make_trades([0.01, 0.02]), period_seconds=0).sharpe is None
    empty = summarize_trades(make_trades([]), period_seconds=3600)
    assert describe_summary(empty) == {
        "trades": 0, "wins": 0, "winRate": None, "winRateLow": None, "winRateHigh": None,
        "averageTrade": None, "profitFactor": None, "pnl": 0.0, "sharpe": None,
        "maxDrawdown": 0.0,
    }  # fmt: skip


def test_drawdown_counts_a_fall_from_the_start() -> None:
    assert compute_max_drawdown(np.array([-0.01, -0.03, 0.02])) == pytest.approx(0.03)
    assert compute_max_drawdown(np.array([], dtype=np.float64)) == 0.0


def test_one_position_per_symbol_at_a_time() -> None:
    ts = np.array([0, 10, 30, 40, 60, 65, 70, 95, 100, 5], dtype=np.float64)
    symbols = ["A"] * 9 + ["B"]
    signals = ["BUY", "SELL", "SELL", "HOLD", "HOLD", "BUY", "BUY", "SELL", "BUY", "SELL"]
    returns = np.array([0.01, 0.5, 0.02, 0.5, 0.5, np.nan, -0.03, 0.5, 0.04, 0.05])
    trades = simulate_trades(ts, symbols, signals, returns, horizon_seconds=30.0, costs=NO_COSTS)
    # A: 0 opens; 10 is inside it; 30 opens (exactly one horizon later); HOLD opens nothing;
    # 65 is unresolved; 70 opens; 95 is inside it; 100 opens. B at 5 opens on its own.
    assert trades.opened_at.tolist() == [0.0, 5.0, 30.0, 70.0, 100.0]
    assert trades.symbol.tolist() == ["A", "B", "A", "A", "A"]
    assert trades.side.tolist() == [1, -1, -1, 1, 1]
    assert trades.gross == pytest.approx([0.01, -0.05, -0.02, -0.03, 0.04], abs=1e-15)


def test_unknown_signals_hold_and_bad_input_is_refused() -> None:
    trades = simulate_trades(
        np.array([0.0, 100.0]), ["A", "A"], ["", "buy"], np.array([0.1, 0.1]),
        horizon_seconds=30.0, costs=NO_COSTS,
    )  # fmt: skip
    assert len(trades) == 0
    with pytest.raises(ValueError, match="horizon_seconds"):
        simulate_trades(np.zeros(1), ["A"], ["BUY"], np.zeros(1), horizon_seconds=0, costs=NO_COSTS)
    with pytest.raises(ValueError, match="same length"):
        simulate_trades(np.zeros(2), ["A"], ["BUY"], np.zeros(2), horizon_seconds=1, costs=NO_COSTS)


def test_decide_signals_is_the_predictors_policy() -> None:
    p = np.array([0.55, 0.5499, 0.45, 0.4501, math.nan, 0.0, 1.0])
    assert decide_signals(p, 0.55, 0.45).tolist() == [
        "BUY", "HOLD", "SELL", "HOLD", "HOLD", "SELL", "BUY",
    ]  # fmt: skip
    thresholds = Thresholds(buy=0.55, sell=0.45)
    grid = np.linspace(0, 1, 201)
    assert decide_signals(grid, 0.55, 0.45).tolist() == [
        decide_signal(float(v), thresholds) for v in grid
    ]
