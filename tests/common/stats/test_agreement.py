"""Stage-1 agreement: the envelope by hand, and by simulation that healthy retrains land inside
it while broken candidates (p_up + 0.05, constant, inverted, random) land outside."""

from __future__ import annotations

import math

import numpy as np
import pytest

from levibot_common.stats.agreement import (
    assess_agreement,
    compute_pairwise_rms,
    compute_squared_differences,
    measure_envelope,
)
from levibot_common.stats.blocks import compute_block_means
from levibot_common.stats.results import FloatArray, Verdict
from levibot_common.stats.sequential import MIN_BLOCKS
from tests.common.stats.markets import simulate_markets

ALPHA = 0.05
BLOCK_S = 120
BLOCKS = 30
REPS = 200
RETRAINS = 8  # K = 8 and the default factor 2: a healthy retrain is inside ~99.5 %


def test_envelope_by_hand() -> None:
    offsets = np.array([0.0, 0.01, 0.02, 0.04])[:, None]
    p = 0.5 + offsets + np.zeros((4, 7))
    np.testing.assert_allclose(
        compute_pairwise_rms(p), [0.01, 0.02, 0.04, 0.01, 0.03, 0.02], atol=1e-12
    )
    envelope = measure_envelope(p, safety_factor=1.5)
    assert envelope.rms == pytest.approx(0.06)
    assert (envelope.max_pairwise_rms, envelope.median_pairwise_rms) == pytest.approx((0.04, 0.02))
    assert (envelope.k, envelope.n) == (4, 7)


def test_envelope_needs_four_retrains() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        measure_envelope(np.full((3, 5), 0.5))


def _retrain(rng: np.random.Generator, x: FloatArray) -> FloatArray:
    """One retrain of the recipe p = sigmoid(0.8 x): its slope and intercept jitter a little."""
    slope, intercept = 0.8 * (1 + 0.03 * rng.standard_normal()), 0.01 * rng.standard_normal()
    return np.asarray(1.0 / (1.0 + np.exp(-(slope * x + intercept))), dtype=np.float64)


def _verdicts(stable: FloatArray, candidate: FloatArray, envelope: float) -> list[Verdict]:
    t = np.arange(stable.shape[0], dtype=np.float64)
    msq = compute_block_means(t, compute_squared_differences(candidate, stable), BLOCK_S)
    looks = range(MIN_BLOCKS, msq.n_eff + 1)
    return [
        assess_agreement(_first(msq, k), envelope, ALPHA, planned_blocks=BLOCKS).verdict
        for k in looks
    ]


def _first(blocks, k):  # type: ignore[no-untyped-def]
    return type(blocks)(
        blocks.starts[:k], blocks.means[:k], blocks.counts[:k], blocks.block_seconds
    )


@pytest.fixture(scope="module")
def setup() -> tuple[np.ndarray, list[float], np.random.Generator]:
    rng = np.random.default_rng(13)
    held_out = simulate_markets(rng, 1, 3600).x[0]
    envelopes = [
        measure_envelope(np.stack([_retrain(rng, held_out) for _ in range(RETRAINS)])).rms
        for _ in range(REPS)
    ]
    live = simulate_markets(rng, REPS, BLOCKS * BLOCK_S).x
    return live, envelopes, rng


def test_healthy_retrain_lands_inside_the_envelope(setup) -> None:  # type: ignore[no-untyped-def]
    live, envelopes, rng = setup
    ever_different = equivalent_at_end = 0
    for x, envelope in zip(live, envelopes, strict=True):
        verdicts = _verdicts(_retrain(rng, x), _retrain(rng, x), envelope)
        ever_different += Verdict.DIFFERENT in verdicts
        equivalent_at_end += verdicts[-1] is Verdict.EQUIVALENT
    assert ever_different / REPS <= 0.02
    assert equivalent_at_end / REPS >= 0.95


@pytest.mark.parametrize("broken", ["shift_0.05", "constant", "inverted", "random"])
def test_broken_candidates_land_outside_at_the_first_look(setup, broken: str) -> None:  # type: ignore[no-untyped-def]
    live, envelopes, rng = setup
    assert max(envelopes) < 0.05  # the recipe is steady enough to tell a 0.05 shift
    different = 0
    for x, envelope in zip(live, envelopes, strict=True):
        stable = _retrain(rng, x)
        candidate = {
            "shift_0.05": np.clip(stable + 0.05, 0.0, 1.0),
            "constant": np.full_like(stable, 0.5),
            "inverted": 1.0 - stable,
            "random": rng.uniform(size=stable.shape),
        }[broken]
        different += _verdicts(stable, candidate, envelope)[0] is Verdict.DIFFERENT
    assert different / REPS >= 0.95


def test_identical_versions_are_equivalent_and_waiting_before_enough_blocks() -> None:
    p = np.linspace(0.3, 0.7, 10 * BLOCK_S)
    t = np.arange(len(p), dtype=np.float64)
    msq = compute_block_means(t, compute_squared_differences(p, p), BLOCK_S)
    result = assess_agreement(msq, 0.02, ALPHA, planned_blocks=BLOCKS)
    assert (result.verdict, result.estimate, result.upper) == (Verdict.EQUIVALENT, 0.0, 0.0)
    assert (result.n, result.n_eff) == (10 * BLOCK_S, 10)
    early = assess_agreement(_first(msq, MIN_BLOCKS - 1), 0.02, ALPHA, planned_blocks=BLOCKS)
    assert early.verdict is Verdict.WAITING
    assert not math.isfinite(early.upper)
