"""Calibration of p_up against outcomes, with dependent outcomes (shared core, pure).

Rows within one horizon share one market outcome, so neither a binned ECE nor its per-row
standard error says much about a window of overlapping outcomes. Two statistics here both use
time blocks (``blocks``) as the unit of independence, and report the effective n (blocks):

1. ``ECE`` (a reference reading, not a test): ``sum_b (n_b / N) |ybar_b - pbar_b|`` over
   ``bins`` equal-width bins of p_up (Naeini, Cooper & Hauskrecht 2015; Guo et al. 2017). Its
   interval is a circular block bootstrap (Politis & Romano 1992, "A circular block-resampling
   procedure for stationary data"): the ``m`` time blocks are a circle; ``ceil(m / r)`` runs of
   ``r`` consecutive blocks (default 2, so neighbours stay together: blocks are 1-dependent) are
   drawn with replacement, cut to ``m`` blocks, and the ECE recomputed from per-block, per-bin
   sums; the interval is the percentile interval. ECE is biased upwards by noise (it is >= 0
   even for a perfect model), so the interval describes, it does not gate.

2. The calibration test (the gate). Under H0 "calibrated", ``E[y | p] = p``, so for any ``h``,
   ``E[(y - p) h(p)] = 0``. With ``h(p) = 1`` (calibration in the large: a shifted p_up) and
   ``h(p) = p - 1/2`` (the slope: over- or under-confident, inverted), the block sums
   ``g_k = sum_{i in k} (y_i - p_i) (1, p_i - 1/2)`` have mean 0 under H0 whatever the
   dependence within a block. This is a Cox (1958) intercept/slope calibration score test in
   the spirit of Spiegelhalter (1986), with the block covariance in place of the binomial one:
   ``S = G_0 + pos(G_1 + G_1')`` (``G_j`` the lag-``j`` sample covariance of the centred
   ``g_k``, ``pos`` the positive part in the eigenbasis, so ``S >= G_0``), and Hotelling's
   ``T^2 = m gbar' S^{-1} gbar``. The p-value uses ``(m - d) / (d (m - 1)) T^2 ~ F(d, m - d)``,
   closed form for ``d = 2``: ``P(F > x) = (1 + 2x / (m - 2))^{-(m-2)/2}``; when p_up has no
   spread (a constant model) only the intercept is tested (``d = 1``, Student t by the
   approximation ``z = t (1 - 1/(4 nu)) / sqrt(1 + t^2 / (2 nu))``, Abramowitz & Stegun 26.7.8).
   Non-monotone miscalibration that keeps intercept and slope is not detected: the ECE shows it.
   Resampling ``y ~ Bernoulli(p)`` for an ECE null is not used: it cannot reproduce how the
   market correlates the outcomes, which is the whole difficulty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from levibot_common.stats.blocks import compute_block_index
from levibot_common.stats.results import FloatArray, IntArray, Interval, Verdict

ECE_BINS = 10
BOOTSTRAP_REPS = 1000
RUN_BLOCKS = 2
MIN_BLOCKS = 4
"""Fewest blocks before a verdict: Hotelling's test with two moments needs ``m - 2 >= 2``."""

_Sums = tuple[FloatArray, FloatArray, FloatArray]  # per block x bin: rows, sum p, sum y


@dataclass(frozen=True)
class CalibrationAssessment:
    """The calibration gate's verdict: ECE with its bootstrap interval, and the test."""

    ece: float
    ece_lower: float
    ece_upper: float
    statistic: float
    p_value: float
    alpha: float
    n: int
    n_eff: int
    verdict: Verdict
    reason: str


def _rows(p: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    pa, ya = np.asarray(p, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if pa.shape != ya.shape or pa.ndim != 1:
        raise ValueError("calibration: p and y must be 1-d arrays of the same length")
    if np.any((pa < 0) | (pa > 1)) or np.any((ya != 0) & (ya != 1)):
        raise ValueError("calibration: p must be in [0, 1] and y in {0, 1}")
    return pa, ya


def compute_ece(p: FloatArray, y: FloatArray, *, bins: int = ECE_BINS) -> float:
    """``sum_b (n_b / N) |ybar_b - pbar_b|`` over equal-width bins of p (NaN without rows)."""
    pa, ya = _rows(p, y)
    if len(pa) == 0:
        return math.nan
    b = np.minimum((pa * bins).astype(np.int64), bins - 1)
    gap = np.bincount(b, weights=ya - pa, minlength=bins)
    return float(np.abs(gap).sum() / len(pa))


def _bin_sums(p: FloatArray, y: FloatArray, block: IntArray, bins: int) -> _Sums:
    _, inverse = np.unique(block, return_inverse=True)
    m = int(inverse.max()) + 1
    cell = inverse * bins + np.minimum((p * bins).astype(np.int64), bins - 1)

    def total(w: FloatArray) -> FloatArray:
        sums = np.bincount(cell, weights=w, minlength=m * bins)
        return np.asarray(sums, dtype=np.float64).reshape(m, bins)

    return total(np.ones_like(p)), total(p), total(y)


def compute_ece_interval(
    p: FloatArray,
    y: FloatArray,
    block: IntArray,
    alpha: float,
    rng: np.random.Generator,
    *,
    bins: int = ECE_BINS,
    reps: int = BOOTSTRAP_REPS,
    run_blocks: int = RUN_BLOCKS,
) -> Interval:
    """ECE with its circular-block-bootstrap percentile interval (``reps`` 0: none, NaN);
    ``n`` counts blocks."""
    pa, ya = _rows(p, y)
    if len(pa) == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    rows, sum_p, sum_y = _bin_sums(pa, ya, np.asarray(block), bins)
    m = rows.shape[0]
    if reps == 0:
        return Interval(compute_ece(pa, ya, bins=bins), math.nan, math.nan, m)
    starts = rng.integers(0, m, size=(reps, -(-m // run_blocks)))
    picks = ((starts[:, :, None] + np.arange(run_blocks)) % m).reshape(reps, -1)[:, :m]
    gaps = np.abs(sum_y[picks].sum(axis=1) - sum_p[picks].sum(axis=1)).sum(axis=1)
    eces = gaps / rows[picks].sum(axis=(1, 2))
    low, high = np.quantile(eces, [alpha / 2.0, 1.0 - alpha / 2.0])
    return Interval(compute_ece(pa, ya, bins=bins), float(low), float(high), m)


def _block_moments(p: FloatArray, y: FloatArray, block: IntArray) -> FloatArray:
    _, inverse = np.unique(block, return_inverse=True)
    resid = y - p
    cols = [np.bincount(inverse, weights=resid * h) for h in (np.ones_like(p), p - 0.5)]
    return np.stack(cols, axis=1)


def _long_run_covariance(g: FloatArray) -> FloatArray:
    c = g - g.mean(axis=0)
    m = len(g)
    g0 = c.T @ c / (m - 1)
    g1 = c[:-1].T @ c[1:] / (m - 1)
    vals, vecs = np.linalg.eigh(g1 + g1.T)
    return np.asarray(g0 + (vecs * np.maximum(vals, 0.0)) @ vecs.T, dtype=np.float64)


def _t_p_value(t: float, nu: int) -> float:
    z = t * (1.0 - 1.0 / (4.0 * nu)) / math.sqrt(1.0 + t * t / (2.0 * nu))
    return 2.0 * (1.0 - NormalDist().cdf(abs(z)))


def compute_calibration_test(p: FloatArray, y: FloatArray, block: IntArray) -> tuple[float, float]:
    """Hotelling's ``T^2`` of the block moments and its p-value (needs at least 4 blocks)."""
    pa, ya = _rows(p, y)
    g = _block_moments(pa, ya, np.asarray(block))
    m = len(g)
    if m < MIN_BLOCKS:
        raise ValueError(f"calibration: the test needs at least {MIN_BLOCKS} blocks, got {m}")
    cov, mean = _long_run_covariance(g), g.mean(axis=0)
    if cov[1, 1] <= 1e-12 * max(cov[0, 0], 1e-300) or np.ptp(pa) < 1e-9:
        cov, mean = cov[:1, :1], mean[:1]  # constant p_up: only calibration in the large
    if cov[0, 0] <= 0.0:
        return (0.0, 1.0) if np.allclose(mean, 0.0) else (math.inf, 0.0)
    t2 = float(m * mean @ np.linalg.solve(cov, mean))
    if len(mean) == 1:
        return t2, _t_p_value(math.sqrt(t2), m - 1)
    f = (m - 2) / (2.0 * (m - 1)) * t2
    return t2, float((1.0 + 2.0 * f / (m - 2)) ** (-(m - 2) / 2.0))


def assess_calibration(
    timestamps: FloatArray,
    p: FloatArray,
    y: FloatArray,
    block_seconds: float,
    *,
    alpha: float,
    rng: np.random.Generator,
    origin_s: float = 0.0,
    min_blocks: int = MIN_BLOCKS,
    bins: int = ECE_BINS,
    bootstrap_reps: int = BOOTSTRAP_REPS,
) -> CalibrationAssessment:
    """``fail`` when the calibration test rejects at ``alpha``, else ``pass``; ``waiting``
    below ``min_blocks``. A calibrated model fails with probability ``<= alpha`` (one look)."""
    pa, ya = _rows(p, y)
    block = compute_block_index(timestamps, block_seconds, origin_s=origin_s)
    m = len(np.unique(block))
    if m < max(min_blocks, MIN_BLOCKS):
        need = max(min_blocks, MIN_BLOCKS)
        why = f"waiting for {need} blocks of {block_seconds:g} s with outcomes, have {m}"
        ece = compute_ece(pa, ya, bins=bins)
        return CalibrationAssessment(
            ece, math.nan, math.nan, math.nan, math.nan, alpha, len(pa), m, Verdict.WAITING, why
        )
    ci = compute_ece_interval(pa, ya, block, alpha, rng, bins=bins, reps=bootstrap_reps)
    t2, p_value = compute_calibration_test(pa, ya, block)
    verdict = Verdict.FAIL if p_value < alpha else Verdict.PASS
    word = "miscalibrated" if verdict is Verdict.FAIL else "no evidence of miscalibration"
    reason = f"{word}: p-value {p_value:.3g} vs alpha {alpha:g} over {m} blocks"
    reason += f", ECE {ci.estimate:.3g}"
    return CalibrationAssessment(
        ci.estimate, ci.lower, ci.upper, t2, p_value, alpha, len(pa), m, verdict, reason
    )
