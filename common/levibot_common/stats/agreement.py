"""Stage 1 of a canary: label-free agreement with the stable version (shared core, pure).

Both versions score every request (shadow scoring), so each row carries ``p_c`` (candidate) and
``p_s`` (stable) for the same features. Per row ``d_i^2 = (p_c - p_s)^2``; per time block the
mean ``D_k`` (``blocks``); the agreement measure is ``RMS = sqrt(mean_k D_k)``. Its bounds are
the square roots of the confidence sequence for ``mean_k D_k`` (``sequential``), clipped at 0: the
square root is monotone, so the coverage carries over. The verdict compares them with the
retraining-noise envelope: ``equivalent`` when the upper bound is ``<= envelope``, ``different``
when the lower bound is ``> envelope``, else ``inconclusive``.

The envelope (``measure_envelope``). The trainer retrains the same recipe K >= 4 times on
shifted windows and scores the same held-out rows, giving ``p`` of shape ``K x n``. For every
pair the RMS of the p_up difference is ``r_ij = sqrt(mean_n (p_i - p_j)^2)``; the envelope is
``safety_factor * max_ij r_ij`` (default 2). Why the max and a factor rather than a quantile:
with K = 4 there are only 6 dependent pairs, so a high quantile *is* the max, and the max is
itself noisy (it is about the range of K draws of the recipe's noise). A healthy candidate-vs-
stable pair is one more draw; the chance that its true RMS exceeds the envelope, in the worst
case of one-dimensional Gaussian retrain noise (measured by simulation, ``P(|Z1 - Z2| > f *
range(K normals))``), is: K = 4: 10 %, 5 %, 1.8 % for f = 1.5, 2, 3; K = 6: 4 %, 1.4 %, 0.3 %;
K = 8: 1.9 %, 0.5 %, 0.05 %. So K = 8 with f = 2 keeps a healthy retrain inside with about
99.5 % probability, before the canary's own error ``alpha``. The price: a broken candidate is
"different" only if its RMS exceeds the envelope, so ``p_up + delta`` (RMS ``= delta``) is caught
only when ``envelope < delta``, i.e. when the recipe's largest pairwise RMS is below
``delta / f`` (0.025 for ``delta = 0.05``, f = 2). A recipe that disagrees with itself more than
that cannot tell such a shift from retraining noise, and the trainer should say so.
``tests/common/stats/test_agreement.py`` simulates both sides.

Blocks shorter than the feature memory (``lags`` > 1, so that a verdict comes in minutes): the
interval uses the variance bound of ``sequential`` (``bounded``), and no verdict comes before
``lags + 2`` blocks; with the estimated autocovariances it missed the mean in more than half
of the simulated markets (``sequential``'s docstring, ``tests/common/stats/test_coverage.py``).

The lower bound comes from the block means capped at ``(TRUNCATION * envelope)^2``. Because
``min(D, c) <= D``, a lower confidence bound of ``E[min(D, c)]`` is one of ``E[D]`` for any
``c``: capping never makes "different" easier for a candidate inside the envelope. It makes it
much faster for one far outside: an inverted or constant candidate's squared differences swing
with the market's volatility (block means with a standard deviation about their mean), and the
bounded variance of those swings kept its lower bound at 0 for a whole 45-min budget (measured
in ``bench/gate_error_rates.py``); capped at twice the envelope they barely vary. The upper
bound (for "equivalent") uses the uncapped means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from levibot_common.stats.blocks import BlockMeans
from levibot_common.stats.results import Assessment, FloatArray, Verdict
from levibot_common.stats.sequential import (
    MIN_BLOCKS,
    build_waiting_assessment,
    compute_confidence_sequence,
    plan_rho,
)

SAFETY_FACTOR = 2.0
"""Envelope = this times the largest pairwise RMS among the trainer's retrains."""

MIN_RETRAINS = 4
TRUNCATION = 2.0
"""The lower bound caps the squared differences at (this times the envelope) squared."""


@dataclass(frozen=True)
class Envelope:
    """The retraining-noise envelope and the pairwise RMS differences it came from."""

    rms: float
    max_pairwise_rms: float
    median_pairwise_rms: float
    k: int
    n: int


def compute_squared_differences(p_a: FloatArray, p_b: FloatArray) -> FloatArray:
    """Per-row ``(p_a - p_b)^2`` of two versions' p_up on the same rows."""
    a, b = np.asarray(p_a, dtype=np.float64), np.asarray(p_b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("agreement: both versions must score the same rows")
    return np.asarray((a - b) ** 2, dtype=np.float64)


def compute_pairwise_rms(p_matrix: FloatArray) -> FloatArray:
    """``sqrt(mean((p_i - p_j)^2))`` for every pair ``i < j`` of rows of a ``K x n`` matrix."""
    p = np.asarray(p_matrix, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] == 0:
        raise ValueError("agreement: p_matrix must be K x n with n >= 1")
    pairs = combinations(range(p.shape[0]), 2)
    return np.array([math.sqrt(float(np.mean((p[i] - p[j]) ** 2))) for i, j in pairs])


def measure_envelope(p_matrix: FloatArray, *, safety_factor: float = SAFETY_FACTOR) -> Envelope:
    """The envelope ``safety_factor * max_{i<j} r_ij`` of K >= 4 retrains' p_up (``K x n``)."""
    p = np.asarray(p_matrix, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < MIN_RETRAINS:
        raise ValueError(f"agreement: need at least {MIN_RETRAINS} retrains (rows of p_matrix)")
    if not np.all(np.isfinite(p)):
        raise ValueError("agreement: p_matrix must be finite")
    if safety_factor < 1.0:
        raise ValueError("agreement: safety_factor must be >= 1")
    rms = compute_pairwise_rms(p)
    top = float(rms.max())
    return Envelope(safety_factor * top, top, float(np.median(rms)), p.shape[0], p.shape[1])


def assess_agreement(
    diff_block_msq: BlockMeans,
    envelope_rms: float,
    alpha: float,
    *,
    planned_blocks: int,
    min_blocks: int = MIN_BLOCKS,
    lags: int = 1,
) -> Assessment:
    """Whether the candidate agrees with the stable within the envelope (RMS scale).

    ``diff_block_msq`` are the block means of ``(p_c - p_s)^2``. Over all looks, a candidate
    whose true RMS exceeds the envelope is called ``equivalent`` with probability ``<= alpha``.
    """
    if envelope_rms < 0:
        raise ValueError("agreement: envelope_rms must be >= 0")
    needed = max(min_blocks, 2, lags + 2)
    if diff_block_msq.n_eff < needed:
        return build_waiting_assessment(diff_block_msq, envelope_rms, needed)
    rho, means = plan_rho(planned_blocks, alpha), diff_block_msq.means
    msq = compute_confidence_sequence(means, alpha, rho, lags=lags, bounded=lags > 1)
    cap = (TRUNCATION * envelope_rms) ** 2 if envelope_rms > 0 else math.inf
    capped = compute_confidence_sequence(
        np.minimum(means, cap), alpha, rho, lags=lags, bounded=lags > 1
    )
    rms = math.sqrt(max(msq.estimate, 0.0))
    lower, upper = math.sqrt(max(capped.lower, 0.0)), math.sqrt(max(msq.upper, 0.0))
    if upper <= envelope_rms:
        verdict, why = Verdict.EQUIVALENT, f"upper bound {upper:.4g} <= envelope {envelope_rms:.4g}"
    elif lower > envelope_rms:
        verdict, why = Verdict.DIFFERENT, f"lower bound {lower:.4g} > envelope {envelope_rms:.4g}"
    else:
        verdict = Verdict.INCONCLUSIVE
        why = f"interval [{lower:.4g}, {upper:.4g}] contains envelope {envelope_rms:.4g}"
    n, n_eff = diff_block_msq.n, diff_block_msq.n_eff
    reason = f"RMS p_up difference {rms:.4g} over {n_eff} blocks: {why}"
    return Assessment(rms, lower, upper, envelope_rms, n, n_eff, verdict, reason)
