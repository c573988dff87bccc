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


def _short_block_assessments(scale: float, envelope_from_truth: float) -> list[Verdict]:
    """Stage 1 with 30-s blocks and 11 lags over 45 min, per market: the first decided verdict
    (or the last) for ``d = sigmoid(0.6 f) - sigmoid(0.4 f)`` times ``scale``, ``f`` a 300-s
    return (the squared difference swings with the market), against an envelope set to
    ``envelope_from_truth`` times the true RMS."""
    rng, window, seconds, reps = np.random.default_rng(41), 300, 2700, 100
    grid = np.linspace(-8.0, 8.0, 20001)
    weights = np.exp(-grid * grid / 2.0) / np.exp(-grid * grid / 2.0).sum()

    def squared(z: FloatArray) -> FloatArray:
        return (scale * (1.0 / (1.0 + np.exp(-0.6 * z)) - 1.0 / (1.0 + np.exp(-0.4 * z)))) ** 2

    envelope = envelope_from_truth * math.sqrt(float((squared(grid) * weights).sum()))
    walk = np.cumsum(rng.standard_normal((reps, seconds + window)), axis=1)
    feature = (walk[:, window:] - walk[:, :seconds]) / math.sqrt(window)
    t, verdicts = np.arange(seconds, dtype=np.float64), []
    for per_second in squared(feature):
        blocks = compute_block_means(t, per_second, 30)
        for k in range(13, blocks.n_eff + 1):
            part = compute_block_means(t[: k * 30], per_second[: k * 30], 30)
            found = assess_agreement(part, envelope, ALPHA, planned_blocks=90, lags=11)
            if found.verdict in (Verdict.EQUIVALENT, Verdict.DIFFERENT):
                break
        verdicts.append(found.verdict)
    return verdicts


def test_capped_lower_bound_keeps_the_error_rate_at_the_envelope() -> None:
    at_boundary = _short_block_assessments(1.0, 1.0)  # the hardest inside case: RMS = envelope
    assert at_boundary.count(Verdict.DIFFERENT) / len(at_boundary) <= ALPHA  # measured 0.0


def test_capped_lower_bound_finds_a_swinging_difference_fast() -> None:
    far = _short_block_assessments(1.0, 1.0 / 7.0)  # RMS 7 x the envelope, like an inverted p_up
    assert far.count(Verdict.DIFFERENT) / len(far) >= 0.95  # measured 1.0
