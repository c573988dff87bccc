"""Calibration with dependent outcomes: ECE by hand, the bootstrap interval, and the block test's
false-fail rate and power by simulation on overlapping 60-s outcomes (one row per second: 10
identical rows per second scale every block sum by 10, which the test is invariant to)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from levibot_common.stats.blocks import compute_block_index
from levibot_common.stats.calibration import (
    assess_calibration,
    compute_calibration_test,
    compute_ece,
    compute_ece_interval,
)
from levibot_common.stats.results import FloatArray, Verdict
from tests.common.stats.markets import simulate_markets

ALPHA = 0.05
BLOCK_S = 120
REPS = 300
MC_MARGIN = 3 * math.sqrt(ALPHA * (1 - ALPHA) / REPS)


def test_ece_by_hand() -> None:
    p = np.array([0.05, 0.15, 0.15, 0.95])
    y = np.array([0.0, 1.0, 0.0, 1.0])
    # bins: [0.05] gap -0.05; [0.15, 0.15] gap 1 - 0.3 = 0.7; [0.95] gap 0.05 -> 0.8 / 4
    assert compute_ece(p, y) == pytest.approx(0.2)
    assert compute_ece(np.array([1.0]), np.array([1.0])) == 0.0  # p = 1 lands in the top bin


def test_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="in \\{0, 1\\}"):
        compute_ece(np.array([0.5]), np.array([0.5]))
    with pytest.raises(ValueError, match="at least 4 blocks"):
        compute_calibration_test(np.full(3, 0.5), np.ones(3), np.arange(3))


def test_ece_interval_is_ordered_and_reproducible() -> None:
    rng = np.random.default_rng(5)
    p = rng.uniform(0.2, 0.8, 600)
    y = (rng.uniform(size=600) < p).astype(np.float64)
    block = np.arange(600) // 20
    a, b = (compute_ece_interval(p, y, block, ALPHA, np.random.default_rng(9)) for _ in range(2))
    assert a == b
    assert a.lower <= a.estimate <= a.upper or a.estimate < a.lower  # ECE's upward bias
    assert a.n == 30


def test_waiting_before_enough_blocks() -> None:
    t = np.arange(300, dtype=np.float64)
    result = assess_calibration(
        t, np.full(300, 0.5), np.ones(300), BLOCK_S, alpha=ALPHA, rng=np.random.default_rng(0)
    )
    assert result.verdict is Verdict.WAITING
    assert (result.n, result.n_eff) == (300, 3)
    assert "waiting for 4 blocks of 120 s" in result.reason


def _fail_rate(p_of: dict[str, FloatArray], y: FloatArray, name: str) -> float:
    t = np.arange(y.shape[1], dtype=np.float64)
    block = compute_block_index(t, BLOCK_S)
    fails = sum(
        compute_calibration_test(p, yy, block)[1] < ALPHA
        for p, yy in zip(p_of[name], y, strict=True)
    )
    return fails / len(y)


@pytest.fixture(scope="module")
def market() -> tuple[dict[str, FloatArray], FloatArray]:
    """300 one-hour markets (30 blocks) with a calibrated p_up, and broken versions of it."""
    m = simulate_markets(np.random.default_rng(31), REPS, 30 * BLOCK_S, drift=0.1)
    p = m.p_true
    return {
        "calibrated": p,
        "constant": np.full_like(p, 0.5),
        "inverted": 1.0 - p,
        "toward_0.95": 0.95 - 0.5 * (0.95 - p),
    }, m.y


@pytest.mark.parametrize("name", ["calibrated", "constant"])
def test_calibrated_models_fail_at_most_alpha(market, name: str) -> None:  # type: ignore[no-untyped-def]
    p_of, y = market
    assert _fail_rate(p_of, y, name) <= ALPHA + MC_MARGIN  # measured 0.04 and 0.05


@pytest.mark.parametrize("name", ["inverted", "toward_0.95"])
def test_miscalibrated_models_fail(market, name: str) -> None:  # type: ignore[no-untyped-def]
    p_of, y = market
    assert _fail_rate(p_of, y, name) >= 0.9  # measured 0.97 and 0.95 with 30 blocks


def test_assessment_reports_effective_n(market) -> None:  # type: ignore[no-untyped-def]
    p_of, y = market
    t = np.arange(y.shape[1], dtype=np.float64)
    result = assess_calibration(
        t, p_of["inverted"][0], y[0], BLOCK_S, alpha=ALPHA, rng=np.random.default_rng(1)
    )
    assert (result.n, result.n_eff) == (30 * BLOCK_S, 30)
    assert result.ece_lower <= result.ece_upper
    assert result.verdict in {Verdict.PASS, Verdict.FAIL}
