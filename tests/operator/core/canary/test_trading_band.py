"""The trading check with the stable's recorded retraining noise: band, margin and block."""

import math

import numpy as np
import pytest

from levibot_common.stats.results import Verdict
from levibot_common.stats.sequential import compute_sequence_margin, plan_rho
from levibot_common.trading import SECONDS_PER_YEAR, Costs
from levibot_operator.core.canary.judgement import (
    CheckResult,
    JudgementContext,
    PairedRows,
    build_trading_checks,
)
from levibot_operator.core.canary.judgement_spec import JudgementSpec
from levibot_operator.core.canary.trading_band import RetrainNoise, convert_noise, plan_margins
from levibot_operator.core.canary.trading_checks import TRADING_SHARPE, TradingRows
from levibot_operator.core.canary.trading_spec import TradingChecksSpec

T0, SECONDS, BLOCK = 1_700_000_000.0, 1800, 361.0
FREE = Costs(0.0, 0.0)
NOISE = RetrainNoise(margin=20.0, hourly=5.0)  # in the check's units (plan_margins)
RECORDED = RetrainNoise(2.5e-5, 7e-6, return_sd=2e-3, position_sd=1.5e-3)  # the trainer's


def _rows(edge: float, candidate_sign: float, seed: int = 5) -> PairedRows:
    """One symbol, one row per second; the stable's side (a minute at a time) earns ``edge``."""
    rng = np.random.default_rng(seed)
    ts = T0 + np.arange(SECONDS, dtype=float)
    side = np.repeat(rng.choice([-1.0, 1.0], size=SECONDS // 60 + 1), 60)[:SECONDS]
    returns = side * edge + rng.normal(0.0, 1e-3, SECONDS)
    trading = TradingRows(side, candidate_sign * side, returns,
                          np.full(SECONDS, "BTC", dtype=object))  # fmt: skip
    p = np.full(SECONDS, 0.5)
    return PairedRows(ts, p, p, np.ones(SECONDS), trading)


def _sharpe(rows: PairedRows, noise: RetrainNoise | None, now: float = T0 + SECONDS,
            spec: TradingChecksSpec | None = None) -> CheckResult:  # fmt: skip
    judgement = JudgementSpec(trading=spec or TradingChecksSpec())
    ctx = JudgementContext(now, T0, BLOCK, 0.03, planned_looks=30, costs=FREE,
                           trading_noise=noise)  # fmt: skip
    found = {c.name: c for c in build_trading_checks(rows, judgement, ctx, alone=True)}
    return found[TRADING_SHARPE]


def test_the_effective_margin_is_the_wider_of_the_spec_and_the_noise() -> None:
    assert plan_margins(TradingChecksSpec(), None) == (0.3, 0.2)
    assert plan_margins(TradingChecksSpec(), NOISE) == (20.0, math.inf)  # the band never passes
    assert plan_margins(TradingChecksSpec(rollback_sharpe_delta=50.0), NOISE) == (50.0, math.inf)


def test_the_margin_and_the_noise_are_taken_in_the_versions_sharpe_units() -> None:
    recorded = RetrainNoise(margin=2e-5, hourly=5e-6, return_sd=1e-3, position_sd=2e-3)
    assert convert_noise(None, 1.0) is None
    found = convert_noise(recorded, 1000.0)  # the canary's return and position sds play no part
    assert found == RetrainNoise(pytest.approx(10.0), pytest.approx(2.5))  # type: ignore[arg-type]


def test_with_noise_the_block_is_the_horizon_and_the_band_is_the_recorded_noise() -> None:
    rows = _rows(2e-4, -1.0)
    assert rows.trading is not None
    annualisation = math.sqrt(SECONDS_PER_YEAR / 60.0)
    check = _sharpe(rows, RECORDED)
    blocks = SECONDS // 60  # every row resolved (the rows' returns are given)
    assert check.n_eff == blocks
    per_block = RECORDED.hourly / RECORDED.position_sd * annualisation * math.sqrt(3600.0 / 60.0)
    half = per_block * compute_sequence_margin(blocks, plan_rho(3600 // 60, 0.05), 0.05)
    assert check.upper - check.estimate == pytest.approx(half)
    assert check.estimate - check.lower == pytest.approx(half)
    assert check.threshold == pytest.approx(-RECORDED.margin / RECORDED.position_sd * annualisation)
    assert "band of a healthy retrain" in check.reason


def test_an_inverted_candidate_fails_against_the_band_before_its_own_interval_decides() -> None:
    rows = _rows(2e-4, -1.0)
    banded, own = _sharpe(rows, RECORDED), _sharpe(rows, None)
    assert banded.verdict is Verdict.FAIL
    assert banded.upper < banded.threshold < -10.0
    assert own.verdict is Verdict.WAITING  # its own interval needs 8 blocks of 361 s
    assert rows.trading is not None
    stable = rows.trading.side_stable * rows.trading.outcome_return
    factor = math.sqrt(SECONDS_PER_YEAR / 60.0) / np.std(stable, ddof=1)
    assert banded.estimate == pytest.approx(-2 * 2e-4 * factor, rel=0.3)


def test_the_same_model_stays_inside_the_band() -> None:
    check = _sharpe(_rows(2e-4, 1.0), RECORDED)
    assert check.verdict is Verdict.INCONCLUSIVE
    assert check.estimate == 0.0
    assert check.lower < 0.0 < check.upper


def test_the_band_never_passes_a_candidate_that_beats_the_stable() -> None:
    check = _sharpe(_rows(-2e-4, -1.0), RECORDED)  # the stable loses what the candidate earns
    assert check.lower > -check.threshold > 10.0
    assert check.verdict is Verdict.INCONCLUSIVE


def test_with_noise_a_check_waits_for_eight_blocks_of_the_horizon() -> None:
    early = _sharpe(_rows(2e-4, -1.0), RECORDED, now=T0 + 7 * 60)
    assert early.verdict is Verdict.WAITING
    assert "have 7" in early.reason
