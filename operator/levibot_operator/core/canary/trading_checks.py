"""Paired paper-trading checks of a canary: Sharpe difference and drawdown ratio (issue 15).

Layer: core (pure), in ``canary``; the statistics are ``levibot_common.stats``, the paper
trades ``levibot_common.trading``. ``judgement.assess_judgement`` adds these checks when the
judgement has a ``trading`` block (``trading_spec``).

The statistic. Every paired row (one per symbol and second; both versions scored the request)
is a unit paper position of each version over the horizon: ``r_v = side_v * outcome_return -
round_trip * |side_v|`` (side +1 BUY, -1 SELL, 0 HOLD; the ModelDeployment's fee and slippage).
The per-row difference ``d = r_candidate - r_stable`` is averaged in time blocks and judged
against one of two intervals (below). Costs stay in ``d``: they cancel on rows where both
versions trade (or both hold), and count where only one does. It is reported as an annualised
Sharpe difference, ``mean(d) / sd(r_stable) * sqrt(year / horizon)``: the excess return per
position in units of the stable's per-position risk, for one symbol trading back to back
(365.25-day year, as ``levibot_common.trading``). That is exactly Sharpe(candidate) - Sharpe
(stable) when the two have the same risk (an inverted or a HOLD-only candidate), and the scale
``sd(r_stable)`` is a plug-in from every counted row. Every request counts, not only the ones
the one-position rule trades, so the mean is the expected return per trade of that rule,
measured with all rows. Only blocks finished before the first unresolved row count.

Two intervals, by what the stable version recorded:

- **The retraining-noise band** (the stable's registry ``backtest.retrainNoise``, measured by
  the trainer, ``levibot_trainer.core.trading_noise``: K retrains of its recipe paired with it on
  its test split): ``estimate +- hourly * sqrt(3600 / L) * m_t``, with ``m_t`` the confidence
  sequence's unit margin after ``t`` blocks (``compute_sequence_margin``), blocks of the horizon.
  The trainer records it in return units; ``trading_band.convert_noise`` converts it to the
  check's units on the counted rows, the noise scaled by the canary's own volatility.
  It is the band a *healthy retrain's* difference stays in at every look, not an interval for
  this candidate's own expected return: a fail says "it lost more on these requests than a
  healthy retrain could", a statement with error rate <= alpha / 2 for candidates that trade
  like the recipe's retrains. Why not the candidate's own interval: an inverted model's own
  paired difference is as noisy as the stable's edge (on the benchmark's seed market the
  stable earns ~3 bps gross per 60-s position against a return sd of 13-17 bps; over 45 min its
  difference is -290 +- 154 annualised), so no interval for its own mean excludes zero within a
  45-min budget (t ~ 1.9 against the ~3 an anytime interval needs); a healthy retrain
  disagrees with the stable on few rows, and its difference moves +-3-8 per hour. Blocks of
  the horizon suffice here: the band's variance is the trainer's long-run rate (measured on
  blocks of horizon + feature window), so no variance is estimated from short blocks.
- **The candidate's own confidence sequence** (a stable without a recorded noise: older
  versions): the block means' anytime-valid interval, blocks of the judgement's length
  (horizon + the longest feature window). Blocks of the horizon alone are not enough: the
  product ``(side_c - side_s) * r`` has no memory beyond the horizon only when prices are a
  martingale and both versions pay the same costs. Measured (time-uniform misses at alpha
  0.05 over 3 h, 150 driftless regime markets): inverted, costs cancel, 0.040 with 61-s blocks
  and 0.033 with 361-s; a candidate that trades less (the cost term is a function of the
  signals, with their 300-s memory) 0.100 and 0.047. On the seed market (weak momentum: the
  edge itself is predictable) the inverted difference's variance rate read from 61-s blocks is
  0.8 x the one from 361-s blocks.

Margins (``plan_margins``): with a recorded noise the effective rollback margin is
``max(rollbackSharpeDelta, margin)``, ``margin`` the largest expected difference of a healthy
retrain, and the status's threshold is minus that; the band never passes a candidate (it says
"worse than a retrain could be", never "better": a candidate that differs from the stable more
than a retrain does has a spread of its own that the band does not bound). Without one, the
spec's ``rollbackSharpeDelta`` and ``promoteSharpeDelta``. Verdicts: ``fail`` (the seed's
rollback) when the upper bound is below minus the rollback margin; ``pass`` (the seed's
promote) when the lower bound is at least the promote margin; else ``inconclusive`` (the
seed's "extend": keep measuring within the budget); ``waiting`` below ``MIN_BLOCKS`` blocks.
The check only vetoes inside a judgement: it gates when it fails, and is shown, not gating,
otherwise. A healthy equivalent retrain has a true difference near 0, so proving it better
would take far longer than a canary: gating on a pass would hold every healthy candidate until
its budget ends. ``alone`` (the benchmark's
``--checks trading``) makes it gate in every state.

``tradingDrawdown`` is a reading: the candidate's max drawdown over the stable's, each from the
one-position paper trades of ``levibot_common.trading`` on the same counted rows, shown against
``drawdownRatioMax``. A max drawdown is a path extreme that grows with the window and the
volatility regime; it has no anytime-valid interval under dependence, so it decides nothing.
"""

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from levibot_common.stats.blocks import BlockMeans, compute_block_index, compute_block_means
from levibot_common.stats.results import FloatArray, Verdict
from levibot_common.stats.sequential import MIN_BLOCKS, compute_confidence_sequence, plan_rho
from levibot_common.trading import (
    SECONDS_PER_YEAR,
    Costs,
    compute_max_drawdown,
    equity_curve,
    simulate_trades,
)
from levibot_operator.core.canary.trading_band import (
    RetrainNoise,
    convert_noise,
    plan_band,
    plan_margins,
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
    noise: RetrainNoise | None = None  # the stable's retraining noise: the band, not the CS


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


def decide_sharpe(lower: float, upper: float, margins: tuple[float, float]
                  ) -> tuple[Verdict, str]:  # fmt: skip
    """Fail below ``-rollback``, pass at or above ``promote``, else extend (inconclusive)."""
    floor, bar = -margins[0], margins[1]
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
    margins, factor = plan_margins(spec, ctx.noise), plan_annualisation(ctx.horizon_seconds) / scale
    threshold = -margins[0]
    needed = max(MIN_BLOCKS, spec.lags + 2)
    if blocks.n_eff < needed:
        estimate = float(blocks.means.mean()) * factor if blocks.n_eff else math.nan
        reason = f"waiting for {needed} finished blocks of {blocks.block_seconds:g} s with " \
                 f"resolved returns, have {blocks.n_eff}"  # fmt: skip
        return TradingCheck(TRADING_SHARPE, estimate, -math.inf, math.inf, threshold, blocks.n,
                            blocks.n_eff, Verdict.WAITING, reason, ctx.alone)  # fmt: skip
    low, mid, high = plan_interval(blocks, factor, spec, ctx)
    verdict, why = decide_sharpe(low, high, margins)
    band = "" if ctx.noise is None else " (band of a healthy retrain: the stable's recorded noise)"
    reason = f"annualised Sharpe difference {mid:.3g} over {blocks.n_eff} blocks{band}: {why}"
    gating = ctx.alone or verdict is Verdict.FAIL
    if not gating:
        reason = f"not gating (vetoes only): {reason}"
    return TradingCheck(TRADING_SHARPE, mid, low, high, threshold, blocks.n, blocks.n_eff,
                        verdict, reason, gating)  # fmt: skip


def plan_interval(blocks: BlockMeans, factor: float, spec: TradingChecksSpec,
                  ctx: TradingContext) -> tuple[float, float, float]:  # fmt: skip
    """(lower, estimate, upper), annualised: the retraining-noise band around the estimate
    when the stable recorded its noise, else the confidence sequence of the block means."""
    if ctx.noise is not None:
        mid = float(blocks.means.mean()) * factor
        half = plan_band(blocks, ctx.noise, ctx.planned_blocks, ctx.alpha)
        return mid - half, mid, mid + half
    rho = plan_rho(max(ctx.planned_blocks, 1), ctx.alpha)
    ci = compute_confidence_sequence(blocks.means, ctx.alpha, rho, lags=spec.lags)
    return ci.lower * factor, ci.estimate * factor, ci.upper * factor


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
    scale = plan_risk_scale(stable, candidate)
    noise = convert_noise(ctx.noise, plan_annualisation(ctx.horizon_seconds))
    sharpe = assess_sharpe(blocks, scale, spec, replace(ctx, noise=noise))
    if not ctx.readings:
        return (sharpe,)
    return sharpe, assess_drawdown(at, counted, blocks.n_eff, spec, ctx)
