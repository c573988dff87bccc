"""Paper trading from signals and resolved horizon returns (shared core, pure numpy, no I/O).

Used by the trainer's backtest, the operator's circuit breakers and the canary's trading checks,
so that a version's trading results mean the same thing everywhere. These are paper results: no
order is ever sent, and the rules below are deliberately simple and conservative.

Rules
-----
- **Signals.** Each row is one answered prediction: a timestamp, a symbol, the serving policy's
  signal (``BUY`` = long, ``SELL`` = short, ``HOLD`` = stay flat) and the simple return of the
  symbol over the prediction's horizon, ``exit_price / entry_price - 1`` (``outcome_return``;
  NaN while unresolved).
- **One position per symbol at a time.** A ``BUY``/``SELL`` row opens a position when the symbol
  is flat, i.e. no position of that symbol was opened within the last ``horizon_seconds`` (a row
  exactly ``horizon_seconds`` after the last opening may open). Rows that arrive while a position
  is open are ignored (they neither extend, reverse nor close it); ``HOLD`` opens nothing and
  closes nothing; unresolved rows open nothing. Every position is closed at its horizon at the
  resolved price, so closing order equals opening order. Rows with the same timestamp and symbol
  are taken in a fixed order (by signal, then return), so the result does not depend on the order
  in which the rows arrive.
- **Fixed unit stake.** Each trade stakes one unit (no compounding, no leverage). Its gross return
  is ``side * outcome_return`` (+1 long, -1 short); PnL, average trade and drawdown are fractions
  of the unit stake, summed over trades.
- **Costs.** A fee and a slippage in basis points are charged on each side (entry and exit), on
  the unit notional: ``net = gross - 2 * (fee_bps + slippage_bps) / 1e4``.
- **Win.** A trade wins when its net return is > 0. The win rate's 95 % interval is Wilson's
  (``levibot_common.stats.proportions``); trades of one symbol never overlap, but trades of
  different symbols at the same time do, so read it as approximate when symbols co-move.
- **Profit factor.** Sum of winning net returns over the absolute sum of losing ones; None when
  there is no losing trade.
- **Sharpe.** Per-trade net returns, zero risk-free rate: ``mean / std (ddof=1) * sqrt(N)`` with
  ``N`` the trades per year at the observed rate, ``trades * 365.25 d / period_seconds`` (crypto
  trades 24/7, so a year is 365.25 days of wall-clock time, not 252 sessions). None with fewer
  than two trades, a zero standard deviation or no period.
- **Max drawdown.** The largest fall from a running peak of the cumulative net PnL curve, the
  curve starting at 0 before the first trade (a positive number, a fraction of the unit stake).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from levibot_common.stats.proportions import compute_wilson_interval

SIDES: dict[str, int] = {"BUY": 1, "SELL": -1, "HOLD": 0}
SECONDS_PER_YEAR = 365.25 * 24 * 3600.0
WIN_RATE_ALPHA = 0.05


@dataclass(frozen=True)
class Costs:
    """Trading costs per side (entry and exit), in basis points of the unit notional."""

    fee_bps: float = 10.0
    slippage_bps: float = 5.0

    def round_trip(self) -> float:
        """The cost of one round trip (entry and exit) as a fraction of the stake."""
        return 2.0 * (self.fee_bps + self.slippage_bps) / 1e4


@dataclass(frozen=True)
class Trades:
    """Closed paper trades, columnar and sorted by ``opened_at`` (which is also closing order)."""

    symbol: NDArray[np.object_]
    opened_at: NDArray[np.float64]
    side: NDArray[np.int8]
    gross: NDArray[np.float64]
    net: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.net.size)


@dataclass(frozen=True)
class TradingSummary:
    """A version's trading results over one window (see the module docstring for each rule)."""

    trades: int
    wins: int
    win_rate: float | None
    win_rate_low: float | None
    win_rate_high: float | None
    average_trade: float | None
    profit_factor: float | None
    pnl: float
    sharpe: float | None
    max_drawdown: float


def encode_signals(signals: NDArray[Any] | list[str]) -> NDArray[np.int8]:
    """``BUY``/``SELL``/``HOLD`` as +1/-1/0; anything else (e.g. no signal) counts as HOLD."""
    values = np.asarray(signals, dtype=object)
    return np.array([SIDES.get(str(s), 0) for s in values], dtype=np.int8)


def decide_signals(
    p_up: NDArray[np.float64], buy_threshold: float, sell_threshold: float
) -> NDArray[np.object_]:
    """The serving policy on many rows: BUY at ``p >= buy``, else SELL at ``p <= sell``, else
    HOLD (as the predictor's ``decide_signal``; NaN is HOLD)."""
    p = np.asarray(p_up, dtype=np.float64)
    signals = np.full(p.shape, "HOLD", dtype=object)
    signals[p <= sell_threshold] = "SELL"
    signals[p >= buy_threshold] = "BUY"
    return signals


def select_openings(
    ts: NDArray[np.float64], candidates: NDArray[np.bool_], horizon_seconds: float
) -> NDArray[np.int64]:
    """Indices (into sorted ``ts`` of one symbol) of the rows that open a position.

    ``candidates`` marks the rows that may open (a resolved BUY or SELL). Greedy in time: after
    an opening at ``t``, the next candidate at or after ``t + horizon_seconds`` opens.
    """
    rows = np.flatnonzero(candidates)
    times = ts[rows]
    chosen: list[int] = []
    k = 0
    while k < rows.size:
        chosen.append(int(rows[k]))
        k = int(np.searchsorted(times, times[k] + horizon_seconds, side="left"))
    return np.asarray(chosen, dtype=np.int64)


def simulate_trades(
    ts: NDArray[np.float64],
    symbols: NDArray[Any] | list[str],
    signals: NDArray[Any] | list[str],
    returns: NDArray[np.float64],
    *,
    horizon_seconds: float,
    costs: Costs,
) -> Trades:
    """The paper trades of one version's rows, by the rules in the module docstring."""
    if horizon_seconds <= 0:
        raise ValueError(f"trading: horizon_seconds must be > 0, got {horizon_seconds}")
    ts_a = np.asarray(ts, dtype=np.float64)
    sym_a = np.asarray(symbols, dtype=object).astype(str)
    side_a = encode_signals(signals)
    ret_a = np.asarray(returns, dtype=np.float64)
    if not ts_a.shape == sym_a.shape == side_a.shape == ret_a.shape:
        raise ValueError("trading: ts, symbols, signals and returns must have the same length")
    order = np.lexsort((np.nan_to_num(ret_a, nan=np.inf), side_a, ts_a, sym_a))
    ts_s, sym_s, side_s, ret_s = ts_a[order], sym_a[order], side_a[order], ret_a[order]
    candidates = (side_s != 0) & np.isfinite(ret_s) & np.isfinite(ts_s)
    opened: list[NDArray[np.int64]] = []
    for symbol in np.unique(sym_s):
        rows = np.flatnonzero(sym_s == symbol)
        opened.append(rows[select_openings(ts_s[rows], candidates[rows], horizon_seconds)])
    picked = np.concatenate(opened) if opened else np.zeros(0, dtype=np.int64)
    picked = picked[np.lexsort((sym_s[picked], ts_s[picked]))]
    gross = side_s[picked].astype(np.float64) * ret_s[picked]
    return Trades(
        symbol=sym_s[picked].astype(object),
        opened_at=ts_s[picked],
        side=side_s[picked],
        gross=gross,
        net=gross - costs.round_trip(),
    )


def equity_curve(trades: Trades) -> NDArray[np.float64]:
    """Cumulative net PnL after each trade, in closing order (fractions of the unit stake)."""
    return np.cumsum(trades.net, dtype=np.float64)


def compute_max_drawdown(curve: NDArray[np.float64]) -> float:
    """The largest fall from a running peak of ``curve``, which starts from 0 (a peak of 0)."""
    if curve.size == 0:
        return 0.0
    peaks = np.maximum.accumulate(np.concatenate(([0.0], curve)))[1:]
    return float(np.max(peaks - curve))


def compute_sharpe(net: NDArray[np.float64], period_seconds: float) -> float | None:
    """Annualised per-trade Sharpe ratio (module docstring); None when it is undefined."""
    if net.size < 2 or not period_seconds > 0:
        return None
    std = float(np.std(net, ddof=1))
    if not std > 0:
        return None
    trades_per_year = net.size * SECONDS_PER_YEAR / period_seconds
    return float(np.mean(net)) / std * math.sqrt(trades_per_year)


def compute_profit_factor(net: NDArray[np.float64]) -> float | None:
    """Sum of winning over the absolute sum of losing net returns; None without a loss."""
    losses = float(-np.sum(net[net < 0]))
    if not losses > 0:
        return None
    return float(np.sum(net[net > 0])) / losses


def summarize_trades(trades: Trades, *, period_seconds: float) -> TradingSummary:
    """Trades, win rate (Wilson 95 %), average trade, profit factor, PnL, Sharpe, drawdown."""
    net = trades.net
    n = int(net.size)
    wins = int(np.count_nonzero(net > 0))
    interval = compute_wilson_interval(wins, n, WIN_RATE_ALPHA) if n else None
    return TradingSummary(
        trades=n,
        wins=wins,
        win_rate=interval.estimate if interval else None,
        win_rate_low=interval.lower if interval else None,
        win_rate_high=interval.upper if interval else None,
        average_trade=float(np.mean(net)) if n else None,
        profit_factor=compute_profit_factor(net),
        pnl=float(np.sum(net)) if n else 0.0,
        sharpe=compute_sharpe(net, period_seconds),
        max_drawdown=compute_max_drawdown(equity_curve(trades)),
    )


def describe_summary(summary: TradingSummary) -> dict[str, float | int | None]:
    """The summary as JSON-ready camelCase fields (registry metrics, status, CLI)."""
    return {
        "trades": summary.trades,
        "wins": summary.wins,
        "winRate": summary.win_rate,
        "winRateLow": summary.win_rate_low,
        "winRateHigh": summary.win_rate_high,
        "averageTrade": summary.average_trade,
        "profitFactor": summary.profit_factor,
        "pnl": summary.pnl,
        "sharpe": summary.sharpe,
        "maxDrawdown": summary.max_drawdown,
    }
