"""The trainer's backtest (issue 15): the model and its no-skill baselines on the test split,
computed by hand, and the columns the dataset gives it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from levibot_common.trading import Costs
from levibot_trainer.core.backtest import (
    TradingPolicy,
    assess_backtest,
    describe_backtest,
    summarize_backtest_line,
)
from levibot_trainer.core.dataset import Rows, Split, build_rows, build_symbol_rows

POLICY = TradingPolicy(buy_threshold=0.55, sell_threshold=0.45, costs=Costs(10.0, 5.0))
HORIZON = 10

# symbol 0 = A, 1 = B. Train rows at t < 50, test rows at t >= 100.
T = np.array([0, 1, 2, 10, 11, 100, 100, 105, 110, 120])
SYMBOL = np.array([0, 0, 0, 1, 1, 0, 1, 0, 0, 0])
RETURN = np.array([0.001, -0.001, 0.003, 0.002, 0.004, 0.01, -0.02, 0.02, -0.01, 0.03])
P_TEST = np.array([0.6, 0.2, 0.6, 0.3, 0.5])  # test rows in order: A100 B100 A105 A110 A120


def make_rows() -> tuple[Rows, Split]:
    rows = Rows(T, np.zeros((T.size, 1)), (RETURN > 0).astype(np.int64), 0, 0, RETURN, SYMBOL)
    return rows, Split(T < 50, T >= 100, 100, 50)


def test_model_and_baselines_by_hand() -> None:
    rows, split = make_rows()
    backtest = assess_backtest(
        rows, split, P_TEST, symbols=["A", "B"], horizon_seconds=HORIZON, policy=POLICY
    )
    # model: A BUY at 100 (+0.01); 105 inside it; SELL at 110 (+0.01); HOLD at 120.
    #        B SELL at 100 (+0.02). Each pays 0.003.
    assert backtest.model.trades == 3
    assert backtest.model.pnl == pytest.approx(0.04 - 3 * 0.003, abs=1e-15)
    assert backtest.model.wins == 3
    # buy-and-hold: A long at 100, 110, 120 (+0.01 - 0.01 + 0.03), B long at 100 (-0.02),
    # one round trip per symbol
    assert backtest.buy_and_hold.trades == 4
    assert backtest.buy_and_hold.pnl == pytest.approx(0.01 - 2 * 0.003, abs=1e-15)
    # equity 0.007, -0.016 (B), -0.026 (A110), 0.004: from the peak 0.007 down to -0.026
    assert backtest.buy_and_hold.max_drawdown == pytest.approx(0.033, abs=1e-15)
    assert (backtest.hold.trades, backtest.hold.pnl) == (0, 0.0)
    assert backtest.period_seconds == 120 - 100 + HORIZON


def test_training_volatility_is_the_std_of_the_train_rows_horizon_returns() -> None:
    rows, split = make_rows()
    backtest = assess_backtest(
        rows, split, P_TEST, symbols=["A", "B"], horizon_seconds=HORIZON, policy=POLICY
    )
    train = [0.001, -0.001, 0.003, 0.002, 0.004]
    mean = sum(train) / 5
    expected = math.sqrt(sum((r - mean) ** 2 for r in train) / 4)
    assert backtest.horizon_return_std == pytest.approx(expected, abs=1e-15)
    assert backtest.horizon_return_std_by_symbol["A"] == pytest.approx(0.002, abs=1e-15)
    assert backtest.horizon_return_std_by_symbol["B"] == pytest.approx(math.sqrt(2e-6), abs=1e-15)


def test_described_for_the_registry_and_the_result() -> None:
    rows, split = make_rows()
    backtest = assess_backtest(
        rows, split, P_TEST, symbols=["A", "B"], horizon_seconds=HORIZON, policy=POLICY
    )
    described = describe_backtest(backtest)
    assert set(described) >= {"model", "hold", "buyAndHold", "horizonReturnStd", "costs"}
    assert described["model"]["trades"] == 3
    assert described["costs"] == {"feeBps": 10.0, "slippageBps": 5.0}
    line = summarize_backtest_line(backtest)
    assert line["model"] == {"trades": 3, "pnl": 0.031, "sharpe": line["model"]["sharpe"],
                             "maxDrawdown": 0.0, "winRate": 1.0}  # fmt: skip


def test_rows_carry_the_horizon_return_and_symbol_of_each_label() -> None:
    closes_a = np.array([1.0, 2.0, 2.0, 1.0, 5.0, 4.0, 4.5, 5.0, 6.0, 3.0] * 60)
    closes_b = closes_a[::-1].copy()
    a = build_symbol_rows(np.arange(600, dtype=np.int64), closes_a, ["ret_1m"], 2)
    b = build_symbol_rows(np.arange(600, dtype=np.int64), closes_b, ["ret_1m"], 2)
    merged = build_rows([a, b], 1)
    assert merged.horizon_return is not None
    assert merged.symbol is not None
    for i in (0, 7, 300, merged.size - 1):
        closes = closes_a if merged.symbol[i] == 0 else closes_b
        t = int(merged.t[i])
        assert merged.horizon_return[i] == closes[t + 2] / closes[t] - 1
        assert merged.y[i] == int(merged.horizon_return[i] > 0)


def test_rows_without_returns_are_refused() -> None:
    rows, split = make_rows()
    bare = Rows(rows.t, rows.x, rows.y, 0, 0)
    with pytest.raises(ValueError, match="horizon returns"):
        assess_backtest(bare, split, P_TEST, symbols=["A", "B"], horizon_seconds=10, policy=POLICY)
