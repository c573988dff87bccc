"""Paper trading properties (issue 15 acceptance), by Hypothesis.

PnL does not depend on the order in which rows arrive or trades settle; a version that always
answers HOLD never trades.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from levibot_common.trading import Costs, Trades, equity_curve, simulate_trades, summarize_trades

Row = tuple[int, str, str, float]
ROWS = st.lists(
    st.tuples(
        st.integers(0, 600),
        st.sampled_from(["BTCUSDT", "ETHUSDT", "SOLUSDT"]),
        st.sampled_from(["BUY", "SELL", "HOLD", ""]),
        st.one_of(st.floats(-0.2, 0.2), st.just(math.nan)),
    ),
    max_size=80,
)
COSTS = Costs(fee_bps=10.0, slippage_bps=5.0)


def run(rows: list[Row], horizon: float = 60.0) -> Trades:
    """simulate_trades over the rows' columns."""
    return simulate_trades(
        np.array([r[0] for r in rows], dtype=np.float64),
        [r[1] for r in rows],
        [r[2] for r in rows],
        np.array([r[3] for r in rows], dtype=np.float64),
        horizon_seconds=horizon,
        costs=COSTS,
    )


@settings(max_examples=150, deadline=None)
@given(rows=ROWS, seed=st.integers(0, 2**32 - 1))
def test_trades_and_pnl_do_not_depend_on_the_order_of_the_rows(rows: list[Row], seed: int) -> None:
    shuffled = [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))]
    first, second = run(rows), run(shuffled)
    assert first.opened_at.tolist() == second.opened_at.tolist()
    assert first.symbol.tolist() == second.symbol.tolist()
    assert first.net.tolist() == second.net.tolist()
    pnl = summarize_trades(first, period_seconds=600).pnl
    assert pnl == summarize_trades(second, period_seconds=600).pnl


@settings(max_examples=150, deadline=None)
@given(rows=ROWS, seed=st.integers(0, 2**32 - 1))
def test_pnl_is_the_same_in_any_settlement_order(rows: list[Row], seed: int) -> None:
    trades = run(rows)
    summary = summarize_trades(trades, period_seconds=600)
    settled = trades.net[np.random.default_rng(seed).permutation(len(trades))]
    assert math.isclose(float(np.sum(settled)), summary.pnl, abs_tol=1e-12)
    curve = equity_curve(trades)
    assert math.isclose(float(curve[-1]) if curve.size else 0.0, summary.pnl, abs_tol=1e-12)
    assert summary.max_drawdown >= 0.0
    assert summary.max_drawdown <= float(-np.sum(trades.net[trades.net < 0])) + 1e-12


@settings(max_examples=100, deadline=None)
@given(rows=ROWS)
def test_a_version_that_always_holds_has_no_trades_and_no_pnl(rows: list[Row]) -> None:
    summary = summarize_trades(run([(t, s, "HOLD", r) for t, s, _, r in rows]), period_seconds=600)
    assert (summary.trades, summary.pnl, summary.max_drawdown) == (0, 0.0, 0.0)
    assert summary.sharpe is None
    assert summary.win_rate is None


@settings(max_examples=100, deadline=None)
@given(rows=ROWS, horizon=st.sampled_from([1.0, 30.0, 60.0, 600.0]))
def test_positions_of_one_symbol_never_overlap(rows: list[Row], horizon: float) -> None:
    trades = run(rows, horizon)
    for symbol in set(trades.symbol.tolist()):
        opened = trades.opened_at[trades.symbol == symbol]
        assert bool(np.all(np.diff(opened) >= horizon))
