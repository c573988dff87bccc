"""Synthetic market ticks (shared core, pure): deterministic by seed, for demos and tests.

The model, per symbol, on a 1-second grid of log prices ``x``:

* **Geometric Brownian motion** with zero log drift: ``x[s+1] - x[s] = mu[s] + sigma[s] * N(0, 1)``.
* **Volatility regimes**: ``sigma = base_vol * m`` with ``m`` in ``REGIME_MULTIPLIERS`` (calm,
  normal, stormy), each regime lasting an exponential time with mean ``regime_seconds``
  (``0``: no regimes, constant volatility; the demo's market, so its one drift is the injected one).
* **A weak, known predictable component** (momentum): a latent trend ``z[s]``, the sum of the
  last ``TREND_SECONDS`` standard normals divided by sqrt(TREND_SECONDS) (so ``z ~ N(0, 1)``,
  persistent over minutes), drives ``mu[s] = signal * sigma[s] * z[s]``. Past returns therefore
  carry information about the next minute's direction; ``signal = 0`` is a pure random walk in
  which no feature can predict the direction (the leakage guard's control).
* **Drift** (``drift_from``): from that time on, ``sigma`` is multiplied by
  ``DRIFT_VOL_FACTOR`` and the momentum reverses: instead of following the latent trend, each
  second leans against the market's last minute, ``mu[s] = -signal * sigma[s] * r[s]`` with
  ``r[s]`` the sum of the last ``REVERSION_SECONDS`` shocks divided by sqrt(REVERSION_SECONDS)
  (at ``signal`` 0.1, about three quarters of a shock are undone within the minute). The
  features' distribution shifts and the learned relation inverts: a model that learned
  momentum now predicts the wrong direction, and one minute of memory lets a retrain on a few
  minutes of the drifted market learn the reversal (``bench/drift_loop.py``). Flipping the
  trend's sign alone would not invert anything: past and future returns share the flipped
  trend, so momentum still holds (measured there: the retrain was not better).

Ticks arrive as a Poisson process (``ticks_per_second``); a tick's log price lies on the Brownian
bridge between the two grid points around it, so the path is exact GBM between ticks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

REGIME_MULTIPLIERS = (0.5, 1.0, 2.0)
TREND_SECONDS = 300
DRIFT_VOL_FACTOR = 3.0
REVERSION_SECONDS = 60  # the drifted market's memory: the one-minute features see it
DEFAULT_SIGNAL = 0.1
START_PRICES = {"BTCUSDT": 60_000.0, "ETHUSDT": 3_000.0, "SOLUSDT": 150.0, "BNBUSDT": 600.0}
DEFAULT_START_PRICE = 100.0


@dataclass(frozen=True)
class SeedSpec:
    """What to generate for one symbol over one block of seconds."""

    symbol: str
    start_epoch: float
    seconds: int
    seed: int
    block: int = 0
    start_price: float | None = None
    ticks_per_second: float = 2.0
    base_vol: float = 1e-4
    signal: float = DEFAULT_SIGNAL
    regime_seconds: float = 1800.0
    drift_from_epoch: float | None = None

    def __post_init__(self) -> None:
        if self.seconds <= 0:
            raise ValueError(f"seconds: must be positive, got {self.seconds}")
        if not self.ticks_per_second > 0:
            raise ValueError(f"ticks_per_second: must be positive, got {self.ticks_per_second}")
        if not self.regime_seconds >= 0:
            raise ValueError(f"regime_seconds: must be >= 0, got {self.regime_seconds}")
        if not self.base_vol > 0:
            raise ValueError(f"base_vol: must be positive, got {self.base_vol}")
        if self.start_price is not None and not self.start_price > 0:
            raise ValueError(f"start_price: must be positive, got {self.start_price}")


@dataclass(frozen=True)
class TickBatch:
    """Ticks of one symbol, ordered by time; ``epoch`` is seconds since 1970 (float)."""

    symbol: str
    epoch: NDArray[np.float64]
    price: NDArray[np.float64]
    qty: NDArray[np.float64]


def build_rng(spec: SeedSpec) -> np.random.Generator:
    """The generator for one (seed, symbol, block): independent streams, same every run."""
    symbol_key = int.from_bytes(spec.symbol.encode()[:16].ljust(16, b"\0"), "little")
    return np.random.default_rng([spec.seed, symbol_key, spec.block])


def build_regimes(
    rng: np.random.Generator, seconds: int, mean_length: float
) -> NDArray[np.float64]:
    """Volatility multiplier per second, piecewise constant over exponential durations."""
    count = int(seconds / mean_length) * 3 + 4
    lengths = np.maximum(1, rng.exponential(mean_length, size=count).astype(np.int64))
    while int(lengths.sum()) < seconds:
        lengths = np.concatenate([lengths, lengths])
    levels = rng.choice(np.asarray(REGIME_MULTIPLIERS), size=lengths.size)
    return np.repeat(levels, lengths)[:seconds]


def build_trend(rng: np.random.Generator, seconds: int) -> NDArray[np.float64]:
    """The latent momentum ``z``: a moving sum of normals, unit variance, persistent."""
    shocks = rng.standard_normal(seconds + TREND_SECONDS - 1)
    window = np.ones(TREND_SECONDS) / np.sqrt(TREND_SECONDS)
    return np.convolve(shocks, window, mode="valid")


def build_reversion(noise: NDArray[np.float64]) -> NDArray[np.float64]:
    """The drifted market's predictable part: the sum of the last ``REVERSION_SECONDS`` shocks
    before each second (fewer at the start), divided by sqrt(REVERSION_SECONDS)."""
    past = np.concatenate([[0.0], np.cumsum(noise)])
    now = np.arange(noise.size)
    start = np.maximum(now - REVERSION_SECONDS, 0)
    reversion: NDArray[np.float64] = (past[now] - past[start]) / np.sqrt(REVERSION_SECONDS)
    return reversion


def build_log_path(
    spec: SeedSpec, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Log prices on the 1-second grid (``seconds + 1`` points from the start price) and the
    volatility of each second."""
    regimes = (
        build_regimes(rng, spec.seconds, spec.regime_seconds)
        if spec.regime_seconds > 0
        else np.ones(spec.seconds)
    )
    sigma = spec.base_vol * regimes
    trend = build_trend(rng, spec.seconds)
    noise = rng.standard_normal(spec.seconds)
    steps = spec.signal * sigma * trend + sigma * noise
    if spec.drift_from_epoch is not None:
        after = spec.start_epoch + np.arange(spec.seconds) >= spec.drift_from_epoch
        sigma = np.where(after, sigma * DRIFT_VOL_FACTOR, sigma)
        reverting = sigma * (noise - spec.signal * build_reversion(noise))
        steps = np.where(after, reverting, steps)
    start = spec.start_price or START_PRICES.get(spec.symbol, DEFAULT_START_PRICE)
    path: NDArray[np.float64] = np.log(start) + np.concatenate([[0.0], np.cumsum(steps)])
    return path, sigma


def build_ticks(spec: SeedSpec) -> TickBatch:
    """All ticks of one block: Poisson arrivals on a Brownian bridge over the log path."""
    rng = build_rng(spec)
    path, sigma = build_log_path(spec, rng)
    counts = rng.poisson(spec.ticks_per_second, size=spec.seconds)
    second = np.repeat(np.arange(spec.seconds), counts)
    offset = _sort_within_seconds(second, rng.random(second.size))
    step = path[second + 1] - path[second]
    vol = sigma[second] * np.sqrt(offset * (1.0 - offset))
    log_price = path[second] + offset * step + vol * rng.standard_normal(second.size)
    qty = np.round(rng.lognormal(mean=-1.0, sigma=1.0, size=second.size), 6)
    epoch = spec.start_epoch + second + offset
    return TickBatch(spec.symbol, epoch, np.exp(log_price), qty)


def _sort_within_seconds(
    second: NDArray[np.int64], offset: NDArray[np.float64]
) -> NDArray[np.float64]:
    order = np.lexsort((offset, second))
    return offset[order]


def build_seed_specs(
    symbols: tuple[str, ...], end_epoch: float, seconds: int, seed: int, template: SeedSpec
) -> list[SeedSpec]:
    """One spec per symbol for the ``seconds`` ending at ``end_epoch``, other fields from
    ``template``."""
    start = end_epoch - seconds
    return [
        replace(template, symbol=s, start_epoch=start, seconds=seconds, seed=seed) for s in symbols
    ]
