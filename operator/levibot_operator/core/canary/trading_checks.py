"""Paired paper-trading checks of a canary: Sharpe difference and drawdown ratio (issue 15).

Layer: core (pure), in ``canary``; the statistics are ``levibot_common.stats``, the paper
trades ``levibot_common.trading``. ``judgement.assess_judgement`` adds these checks when the
judgement has a ``trading`` block (``trading_spec``).

The statistic. Every paired row (one per symbol and second; both versions scored the request)
is a unit paper position of each version over the horizon: ``r_v = side_v * outcome_return -
round_trip * |side_v|`` (side +1 BUY, -1 SELL, 0 HOLD; the ModelDeployment's fee and slippage).
The per-row difference ``d = r_candidate - r_stable`` is averaged in time blocks (the
judgement's, ``horizon + the longest feature window`` unless set; ``lags``-dependent), and the
anytime-valid confidence sequence of ``levibot_common.stats.sequential`` (long-run variance
with ``lags`` autocovariances) bounds the mean of ``d``. It is reported as an annualised Sharpe
difference, ``mean(d) / sd(r_stable) * sqrt(year / horizon)``: the candidate's excess return per
position in units of the stable's per-position risk, for one symbol trading back to back
(365.25-day year, as ``levibot_common.trading``). That is exactly Sharpe(candidate) - Sharpe
(stable) when the two have the same risk (an inverted or a HOLD-only candidate), and the scale
``sd(r_stable)`` is a plug-in from every counted row. Every request counts, not only the ones
the one-position rule trades, so the mean is the expected return per trade of that rule,
measured with all rows. Only blocks finished before the first unresolved row count.

Verdicts: ``fail`` (the seed's rollback) when the upper bound is below ``-rollbackSharpeDelta``;
``pass`` (the seed's promote) when the lower bound is at least ``promoteSharpeDelta``; else
``inconclusive`` (the seed's "extend": keep measuring within the budget); ``waiting`` below
``MIN_BLOCKS`` blocks. Each decision errs with probability <= alpha / 2 over all looks
(asymptotically). The check only vetoes inside a judgement: it gates when it fails, and is
shown, not gating, otherwise. A healthy equivalent retrain has a true difference near 0, so
proving it +0.2 better (or not 0.3 worse) would take far longer than a canary: gating on a pass
would hold every healthy candidate until its budget ends. ``alone`` (the benchmark's
``--checks trading``) makes it gate in every state.

``tradingDrawdown`` is a reading: the candidate's max drawdown over the stable's, each from the
one-position paper trades of ``levibot_common.trading`` on the same counted rows, shown against
``drawdownRatioMax``. A max drawdown is a path extreme that grows with the window and the
volatility regime; it has no anytime-valid interval under dependence, so it decides nothing.
"""

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from levibot_common.stats.blocks import BlockMeans, compute_block_index, compute_block_means
from levibot_common.stats.results import FloatArray, Verdict
from levibot_common.stats.sequential import (
    MIN_BLOCKS,
    compute_confidence_sequence,
    plan_rho,
)
from levibot_common.trading import (
    SECONDS_PER_YEAR,
    Costs,
    compute_max_drawdown,
    equity_curve,
    simulate_trades,
)
from levibot_operator.core.canary.trading_spec import TradingChecksSpec

TRADING_SHARPE, TRADING_DRAWDOWN = "tradingSharpe", "tradingDrawdown"
SIGNALS = np.array(["SELL", "HOLD", "BUY"], dtype=object)  # side + 1


@dataclass(frozen=True)
class TradingRows:
    """The paired rows' trading columns, aligned with their ``ts``: each version's side (+1,
    -1, 0; NaN: no signal logged), the horizon's simple return (NaN until resolved), and the
    symbol."""

    side_stable: FloatArray
    side_candidate: FloatArray
    outcome_return: FloatArray
    symbol: NDArray[np.object_]


@dataclass(frozen=True)
class TradingContext:
    """Times in epoch seconds; ``block_seconds`` resolved; ``alone``: the checks gate alone."""

    now: float
    started_at: float
    block_seconds: float
    horizon_seconds: float
    costs: Costs
    alpha: float
    planned_blocks: int
    alone: bool = False
    readings: bool = True  # False: skip the drawdown reading (the benchmark's verdicts only)


@dataclass(frozen=True)
class TradingCheck:
    """One check, with the fields of ``judgement.CheckResult`` in its order."""

    name: str
    estimate: float
    lower: float
    upper: float
    threshold: float
    n: int
    n_eff: int
    verdict: Verdict | None
    reason: str
    gating: bool


def compute_position_returns(side: FloatArray, returns: FloatArray, costs: Costs) -> FloatArray:
    """``side * return - round_trip * |side|``: a unit position over the horizon per row."""
    return np.asarray(side * returns - costs.round_trip() * np.abs(side), dtype=np.float64)


def plan_annualisation(horizon_seconds: float) -> float:
    """``sqrt(positions per year)`` of one symbol trading back to back."""
    return math.sqrt(SECONDS_PER_YEAR / horizon_seconds)


def select_counted(ts: FloatArray, rows: TradingRows, ctx: TradingContext) -> NDArray[np.bool_]:
    """Rows of finished blocks before the first unresolved row, with both sides logged."""
    unresolved = ts[np.isnan(rows.outcome_return)]
    until = min(ctx.now, float(unresolved.min())) if len(unresolved) else ctx.now
    index = compute_block_index(ts, ctx.block_seconds, origin_s=ctx.started_at)
    finished = ctx.started_at + (index + 1) * ctx.block_seconds <= until
    sides = np.isfinite(rows.side_stable) & np.isfinite(rows.side_candidate)
    return np.asarray(finished & sides & np.isfinite(rows.outcome_return))


def plan_risk_scale(stable: FloatArray, candidate: FloatArray) -> float:
    """The stable's per-row sd; the candidate's if the stable never moved; else 1."""
    for r in (stable, candidate):
        sd = float(np.std(r, ddof=1)) if r.size >= 2 else 0.0
        if sd > 0:
            return sd
    return 1.0


def decide_sharpe(lower: float, upper: float, spec: TradingChecksSpec) -> tuple[Verdict, str]:
    """Fail below ``-rollback``, pass at or above ``promote``, else extend (inconclusive)."""
    floor, bar = -spec.rollback_sharpe_delta, spec.promote_sharpe_delta
    if upper < floor:
        return (
            Verdict.FAIL,
            f"upper bound {upper:.3g} < {floor:g}: worse than the stable (rollback)",
        )
    if lower >= bar:
        return (
            Verdict.PASS,
            f"lower bound {lower:.3g} >= +{bar:g}: better than the stable (promote)",
        )
    return Verdict.INCONCLUSIVE, f"interval [{lower:.3g}, {upper:.3g}] within the bars: extend"


def assess_sharpe(blocks: BlockMeans, scale: float, spec: TradingChecksSpec,
                  ctx: TradingContext) -> TradingCheck:  # fmt: skip
    """The Sharpe difference check from block means of the paired return difference."""
    threshold, factor = -spec.rollback_sharpe_delta, plan_annualisation(ctx.horizon_seconds) / scale
    needed = max(MIN_BLOCKS, spec.lags + 2)
    if blocks.n_eff < needed:
        estimate = float(blocks.means.mean()) * factor if blocks.n_eff else math.nan
        reason = f"waiting for {needed} finished blocks of {blocks.block_seconds:g} s with " \
                 f"resolved returns, have {blocks.n_eff}"  # fmt: skip
        return TradingCheck(TRADING_SHARPE, estimate, -math.inf, math.inf, threshold, blocks.n,
                            blocks.n_eff, Verdict.WAITING, reason, ctx.alone)  # fmt: skip
    rho = plan_rho(max(ctx.planned_blocks, 1), ctx.alpha)
    ci = compute_confidence_sequence(blocks.means, ctx.alpha, rho, lags=spec.lags)
    low, mid, high = ci.lower * factor, ci.estimate * factor, ci.upper * factor
    verdict, why = decide_sharpe(low, high, spec)
    reason = f"annualised Sharpe difference {mid:.3g} over {blocks.n_eff} blocks: {why}"
    gating = ctx.alone or verdict is Verdict.FAIL
    if not gating:
        reason = f"not gating (vetoes only): {reason}"
    return TradingCheck(TRADING_SHARPE, mid, low, high, threshold, blocks.n, blocks.n_eff,
                        verdict, reason, gating)  # fmt: skip


def measure_drawdown(ts: FloatArray, rows: TradingRows, side: FloatArray, ctx: TradingContext,
                     ) -> float:  # fmt: skip
    """Max drawdown of one version's one-position paper trades (``levibot_common.trading``)."""
    signals = SIGNALS[side.astype(np.int64) + 1]
    trades = simulate_trades(ts, rows.symbol, signals, rows.outcome_return,
                             horizon_seconds=ctx.horizon_seconds, costs=ctx.costs)  # fmt: skip
    return compute_max_drawdown(equity_curve(trades))


def assess_drawdown(ts: FloatArray, rows: TradingRows, n_eff: int, spec: TradingChecksSpec,
                    ctx: TradingContext) -> TradingCheck:  # fmt: skip
    """The drawdown ratio reading (candidate over stable), never gating."""
    stable = measure_drawdown(ts, rows, rows.side_stable, ctx)
    candidate = measure_drawdown(ts, rows, rows.side_candidate, ctx)
    ratio = candidate / stable if stable > 0 else (math.inf if candidate > 0 else math.nan)
    reason = f"reading (not a gate): max drawdown {candidate:.4g} vs the stable's {stable:.4g} " \
             f"(the seed promotes at <= {spec.drawdown_ratio_max:g} x)"  # fmt: skip
    return TradingCheck(TRADING_DRAWDOWN, ratio, math.nan, math.nan, spec.drawdown_ratio_max,
                        len(ts), n_eff, None, reason, False)  # fmt: skip


def _take(rows: TradingRows, keep: NDArray[np.bool_]) -> TradingRows:
    return TradingRows(rows.side_stable[keep], rows.side_candidate[keep],
                       rows.outcome_return[keep], rows.symbol[keep])  # fmt: skip


def assess_trading_checks(ts: FloatArray, rows: TradingRows, spec: TradingChecksSpec,
                          ctx: TradingContext) -> tuple[TradingCheck, ...]:  # fmt: skip
    """The Sharpe difference check and the drawdown reading (see the module docstring)."""
    keep = select_counted(ts, rows, ctx)
    counted, at = _take(rows, keep), ts[keep]
    stable = compute_position_returns(counted.side_stable, counted.outcome_return, ctx.costs)
    candidate = compute_position_returns(counted.side_candidate, counted.outcome_return, ctx.costs)
    blocks = compute_block_means(at, candidate - stable, ctx.block_seconds,
                                 origin_s=ctx.started_at)  # fmt: skip
    sharpe = assess_sharpe(blocks, plan_risk_scale(stable, candidate), spec, ctx)
    if not ctx.readings:
        return (sharpe,)
    return sharpe, assess_drawdown(at, counted, blocks.n_eff, spec, ctx)
