"""The trading checks on hand-built paired rows: exact figures, every verdict, the veto rule."""

import math

import numpy as np
import pytest

from levibot_common.stats.results import Verdict
from levibot_common.trading import SECONDS_PER_YEAR, Costs
from levibot_operator.core.canary.judgement import (
    CheckResult,
    JudgementContext,
    PairedRows,
    assess_judgement,
    build_trading_checks,
)
from levibot_operator.core.canary.judgement_spec import (
    JudgementSpec,
    parse_judgement,
    unparse_judgement,
)
from levibot_operator.core.canary.trading_checks import (
    TRADING_DRAWDOWN,
    TRADING_SHARPE,
    TradingRows,
)
from levibot_operator.core.canary.trading_spec import TradingChecksSpec
from levibot_operator.core.fields import SpecError

T0 = 1_700_000_000.0
SECONDS = 3 * 3600
BLOCK = 361.0
FREE = Costs(0.0, 0.0)


def _market(seed: int = 3, edge: float = 4e-4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two symbols, one row per symbol and second; the stable's side, held a minute at a
    time, earns ``edge`` per position on average (returns of sd 0.001)."""
    rng = np.random.default_rng(seed)
    ts = np.repeat(T0 + np.arange(SECONDS, dtype=float), 2)
    side = np.repeat(rng.choice([-1.0, 1.0], size=len(ts) // 120 + 1), 120)[: len(ts)]
    returns = side * edge + rng.normal(0.0, 1e-3, len(ts))
    return ts, side, returns


TS, SIDE, RETURNS = _market()
SYMBOLS = np.tile(np.array(["BTC", "ETH"], dtype=object), SECONDS)


def _rows(candidate: np.ndarray, stable: np.ndarray = SIDE, returns: np.ndarray = RETURNS,
          ts: np.ndarray = TS) -> PairedRows:  # fmt: skip
    p = np.full(len(ts), 0.5)
    trading = TradingRows(stable, candidate, returns, SYMBOLS[: len(ts)])
    return PairedRows(ts, p, p, np.where(np.isnan(returns), np.nan, 1.0), trading)


def _checks(rows: PairedRows, *, now: float = T0 + SECONDS, alone: bool = False,
            costs: Costs = FREE, trading: TradingChecksSpec | None = None,
            ) -> dict[str, CheckResult]:  # fmt: skip
    spec = JudgementSpec(trading=trading or TradingChecksSpec())
    ctx = JudgementContext(now, T0, BLOCK, 0.03, planned_looks=30, costs=costs)
    return {c.name: c for c in build_trading_checks(rows, spec, ctx, alone=alone)}


def test_an_inverted_candidate_fails_and_vetoes() -> None:
    sharpe = _checks(_rows(-SIDE))[TRADING_SHARPE]
    assert sharpe.verdict is Verdict.FAIL
    assert sharpe.gating
    assert sharpe.upper < -0.3
    assert sharpe.n_eff == SECONDS // 361
    assert "rollback" in sharpe.reason


def test_the_same_model_extends_and_does_not_gate_unless_alone() -> None:
    sharpe = _checks(_rows(SIDE))[TRADING_SHARPE]
    assert sharpe.verdict is Verdict.INCONCLUSIVE
    assert not sharpe.gating
    assert sharpe.estimate == 0.0
    assert sharpe.lower == 0.0 == sharpe.upper
    assert "extend" in sharpe.reason
    assert _checks(_rows(SIDE), alone=True)[TRADING_SHARPE].gating


def test_a_candidate_that_stays_out_of_a_losing_stable_passes() -> None:
    losing = _checks(_rows(np.zeros_like(SIDE), stable=-SIDE), costs=Costs())
    assert losing[TRADING_SHARPE].verdict is Verdict.PASS
    assert losing[TRADING_SHARPE].lower >= 0.2


def test_the_estimate_is_the_annualised_block_mean_over_the_stables_sd() -> None:
    half = np.where(np.arange(len(SIDE)) % 4 == 0, 0.0, SIDE)  # holds a quarter of the rows
    sharpe = _checks(_rows(half))[TRADING_SHARPE]
    counted = TS < T0 + (SECONDS // 361) * 361
    d = ((half - SIDE) * RETURNS)[counted]
    blocks = np.floor((TS[counted] - T0) / BLOCK)
    means = np.array([d[blocks == b].mean() for b in np.unique(blocks)])
    scale = np.std((SIDE * RETURNS)[counted], ddof=1)
    expected = means.mean() / scale * math.sqrt(SECONDS_PER_YEAR / 60.0)
    assert sharpe.estimate == pytest.approx(expected, rel=1e-9)


def test_costs_cancel_when_both_trade_and_count_when_one_holds() -> None:
    costly = Costs(10.0, 5.0)
    inverted = (_checks(_rows(-SIDE)), _checks(_rows(-SIDE), costs=costly))
    assert inverted[0][TRADING_SHARPE].estimate == pytest.approx(
        inverted[1][TRADING_SHARPE].estimate
    )
    hold = _checks(_rows(np.zeros_like(SIDE)), costs=costly)[TRADING_SHARPE]
    free = _checks(_rows(np.zeros_like(SIDE)))[TRADING_SHARPE]
    assert hold.estimate > free.estimate  # holding saves the stable's 30 bps per position


def test_few_blocks_wait_and_an_unresolved_row_holds_later_blocks_back() -> None:
    early = _checks(_rows(-SIDE), now=T0 + 5 * BLOCK)[TRADING_SHARPE]
    assert early.verdict is Verdict.WAITING
    assert "have 5" in early.reason
    assert not early.gating
    returns = RETURNS.copy()
    returns[int(2 * 7 * BLOCK)] = math.nan  # a row in block 7 is not resolved yet
    held = _checks(_rows(-SIDE, returns=returns))[TRADING_SHARPE]
    assert held.verdict is Verdict.WAITING
    assert held.n_eff == 7


def test_rows_without_a_signal_are_left_out() -> None:
    stable = SIDE.copy()
    stable[::3] = math.nan
    assert _checks(_rows(-SIDE, stable=stable))[TRADING_SHARPE].n == np.sum(
        ~np.isnan(stable[TS < T0 + (SECONDS // 361) * 361])
    )


def test_drawdown_is_a_reading_of_the_one_position_trades() -> None:
    ts = T0 + np.array([0.0, 30.0, 60.0, 120.0, 180.0])
    returns = np.array([0.01, 0.5, -0.02, -0.03, 0.01])
    stable, candidate = np.ones(5), np.array([1.0, 1.0, 0.0, 1.0, 1.0])
    rows = TradingRows(stable, candidate, returns, np.array(["BTC"] * 5, dtype=object))
    found = _checks(PairedRows(ts, np.full(5, 0.5), np.full(5, 0.5), np.ones(5), rows),
                    now=T0 + 10 * BLOCK, trading=TradingChecksSpec(block_seconds=60))  # fmt: skip
    reading = found[TRADING_DRAWDOWN]
    # stable trades at 0, 60, 120, 180: curve 0.01, -0.01, -0.04, -0.03 -> drawdown 0.05;
    # the candidate at 0, 120, 180 (the 30-s row is inside the first position): 0.01, -0.02,
    # -0.01 -> 0.03; ratio 0.6
    assert reading.estimate == pytest.approx(0.6)
    assert reading.verdict is None
    assert not reading.gating
    assert reading.threshold == 0.9


def test_no_trading_block_no_trading_checks() -> None:
    spec, rows = JudgementSpec(), _rows(-SIDE)
    ctx = JudgementContext(T0 + SECONDS, T0, BLOCK, 0.03, planned_looks=30, bootstrap_reps=50)
    assert build_trading_checks(rows, spec, ctx) == ()
    names = {c.name for c in assess_judgement(rows, spec, ctx).checks}
    assert TRADING_SHARPE not in names
    with_trading = JudgementSpec(trading=TradingChecksSpec())
    result = assess_judgement(rows, with_trading, ctx)
    assert result.find_check(TRADING_SHARPE) is not None


def test_the_spec_parses_merges_and_reads_back() -> None:
    assert parse_judgement({}, "j").trading is None
    spec = parse_judgement({"trading": {}}, "j")
    assert spec.trading == TradingChecksSpec(0.2, 0.3, 0.9, 0, 1)
    step = parse_judgement({"trading": {"lags": 2}}, "s", base=spec)
    assert step.trading == TradingChecksSpec(lags=2)
    assert parse_judgement(unparse_judgement(step), "j") == step
    with pytest.raises(SpecError, match="rollbackSharpeDelta"):
        parse_judgement({"trading": {"rollbackSharpeDelta": -1}}, "j")
