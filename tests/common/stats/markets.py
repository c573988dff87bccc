"""Simulated markets for the statistics tests: overlapping-horizon outcomes at 10 req/s.

A price is a random walk of 1-s closes, optionally with a drift ``c * x(t)`` driven by an
observable AR(1) signal ``x`` (the "feature"). Requests arrive at ``rate`` per second; every row
of one second sees the same close, and its label is whether the close ``horizon`` seconds later
is higher, so successive labels overlap for ``horizon`` seconds exactly as in levibot. With the
drift, ``p_true`` is the exact conditional probability of an up move (a calibrated model).
Many markets (``reps``) are simulated at once, one per row of each array.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from levibot_common.stats.results import FloatArray

RATE = 10
HORIZON_S = 60


@dataclass(frozen=True)
class Markets:
    """Per-second feature ``x``, calibrated p_up and outcome ``y``, shape ``reps x seconds``."""

    x: FloatArray
    p_true: FloatArray
    y: FloatArray
    rate: int

    def rows(self, values: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Per-request timestamps and values (``rate`` rows per second) of one market."""
        seconds = values.shape[-1]
        t = (np.arange(seconds)[:, None] + np.arange(self.rate) / self.rate).ravel()
        return t, np.repeat(values, self.rate)


def _normal_cdf(z: FloatArray) -> FloatArray:
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return np.asarray(0.5 * (1.0 + erf(z / math.sqrt(2.0))), dtype=np.float64)


def _ar1(rng: np.random.Generator, reps: int, n: int, phi: float) -> FloatArray:
    shocks = rng.standard_normal((reps, n)) * math.sqrt(1.0 - phi * phi)
    x = np.empty((reps, n))
    x[:, 0] = rng.standard_normal(reps)
    for i in range(1, n):  # a vector of reps per step: a few ms for an hour
        x[:, i] = phi * x[:, i - 1] + shocks[:, i]
    return x


def _conditional_sd(phi: float, h: int, c: float) -> float:
    """sd of the h-second return given x(t): unit noise plus the drift's own innovations."""
    tail = sum(((1.0 - phi ** (h - j)) / (1.0 - phi)) ** 2 for j in range(1, h))
    return math.sqrt(h + c * c * (1.0 - phi * phi) * tail)


def simulate_markets(
    rng: np.random.Generator,
    reps: int,
    seconds: int,
    *,
    drift: float = 0.0,
    phi: float = 0.97,
    horizon: int = HORIZON_S,
) -> Markets:
    """``reps`` independent markets of ``seconds`` seconds whose outcomes are known."""
    x = _ar1(rng, reps, seconds + horizon, phi)
    steps = drift * x + rng.standard_normal((reps, seconds + horizon))
    price = np.concatenate([np.zeros((reps, 1)), np.cumsum(steps, axis=1)], axis=1)
    up = (price[:, horizon : horizon + seconds] > price[:, :seconds]).astype(np.float64)
    reach = (1.0 - phi**horizon) / (1.0 - phi)
    z = drift * x[:, :seconds] * reach / _conditional_sd(phi, horizon, drift)
    p = _normal_cdf(z) if drift else np.full_like(z, 0.5)
    return Markets(x[:, :seconds], p, up, RATE)


def log_loss(p: NDArray[np.float64], y: NDArray[np.float64]) -> FloatArray:
    """Per-row log-loss, with p clipped away from 0 and 1."""
    q = np.clip(p, 1e-6, 1.0 - 1e-6)
    return np.asarray(-(y * np.log(q) + (1.0 - y) * np.log(1.0 - q)), dtype=np.float64)
