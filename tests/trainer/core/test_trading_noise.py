"""The retrains' paired paper-return noise: exact figures on hand-built rows, and the edges."""

import math

import numpy as np
import pytest

from levibot_common.trading import Costs
from levibot_trainer.core.trading_noise import (
    MIN_NOISE_BLOCKS,
    RetrainNoise,
    describe_retrain_noise,
    measure_retrain_noise,
)

FREE = (0.55, 0.45, Costs(0.0, 0.0))
N, BLOCK = 1200, 60.0


def _rows(seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = np.arange(N, dtype=float)
    returns = rng.normal(0.0, 1e-3, N)
    p = np.where(rng.random(N) < 0.5, 0.6, 0.4)  # BUY or SELL on every row
    return ts, returns, p


def _measure(p: np.ndarray, retrains: np.ndarray, policy: tuple[float, float, Costs] = FREE,
             returns: np.ndarray | None = None) -> RetrainNoise | None:  # fmt: skip
    ts, r, _ = _rows()
    return measure_retrain_noise(
        ts, r if returns is None else returns, p, retrains, policy=policy, block_seconds=BLOCK,
    )  # fmt: skip


def test_retrains_identical_to_the_version_have_no_noise() -> None:
    _, _, p = _rows()
    noise = _measure(p, np.vstack([p, p, p, p]))
    assert noise is not None
    assert noise.margin == 0.0
    assert noise.hourly == 0.0
    assert noise.retrains == 4
    assert describe_retrain_noise(noise) == {
        "margin": 0.0, "hourly": 0.0, "returnSd": noise.return_sd, "positionSd": noise.position_sd,
        "units": "paired return per position, fraction of the unit stake",
        "retrains": 4, "blockSeconds": BLOCK,
    }  # fmt: skip


def test_the_margin_is_the_largest_mean_difference_in_return_units() -> None:
    _, r, p = _rows()
    holding = np.full(N, 0.5)  # a retrain that never trades
    noise = _measure(p, np.vstack([p, holding]))
    assert noise is not None
    own = np.where(p >= 0.55, 1.0, -1.0) * r
    assert noise.margin == pytest.approx(abs(own.mean()), rel=1e-9)  # equal blocks
    assert noise.return_sd == pytest.approx(np.std(r, ddof=1))
    assert noise.position_sd == pytest.approx(np.std(own, ddof=1))
    blocks = (-own).reshape(-1, int(BLOCK)).mean(axis=1)
    centred = blocks - blocks.mean()
    g0 = centred @ centred / (len(blocks) - 1)
    g1 = centred[:-1] @ centred[1:] / (len(blocks) - 1)
    assert noise.hourly == pytest.approx(math.sqrt(max(g0, g0 + 2 * g1) * BLOCK / 3600.0))


def test_costs_count_where_the_retrain_holds_and_the_version_trades() -> None:
    _, r, p = _rows()
    holding = np.vstack([np.full(N, 0.5)])
    free, charged = _measure(p, holding), _measure(p, holding, (0.55, 0.45, Costs(10.0, 5.0)))
    assert free is not None
    assert charged is not None
    own = np.where(p >= 0.55, 1.0, -1.0) * r
    # holding saves the version's 30-bps round trip on every row
    assert charged.margin == pytest.approx(abs((own - 0.003).mean()))
    assert free.margin == pytest.approx(abs(own.mean()))


def test_a_version_that_never_trades_or_too_few_blocks_say_nothing() -> None:
    _, _, p = _rows()
    holding = np.full(N, 0.5)
    assert _measure(holding, np.vstack([p])) is None
    short = np.full(N, np.nan)
    short[: int(BLOCK) * (MIN_NOISE_BLOCKS - 1)] = 1e-3
    assert _measure(p, np.vstack([holding]), returns=short) is None
