"""Simulated markets for the gate benchmark: 1-second closes and feature rows per symbol.

Two kinds (benchmark helper):

* ``seed``: the seed generator's market (``levibot_common.seed.generator``: GBM with volatility
  regimes of 30 min on average and a weak momentum signal), two symbols, as the live feed;
* ``eurusd``: the hourly EURUSD series (2017-04-19 .. 2018-02-07, 5,000 bars) shipped in the
  PyPI package ``backtesting`` (``backtesting/test/EURUSD.csv``), replayed on a rescaled time
  axis: each hourly bar lasts ``BAR_SECONDS`` = 60 simulated seconds; inside a bar the 1-s log
  price follows a Brownian bridge from the previous close to the bar's close whose per-second
  volatility is ``ln(high / low) / (1.6 * sqrt(60))`` (the expected range of a Brownian motion
  over ``T`` is ``1.6 sigma sqrt(T)``), so the bar's high-low range sets the intra-bar noise.
  Each market seed takes a stretch starting at a random bar, and, as the second symbol, the
  stretch half the series (104 days) later; it draws fresh bridges. Weekend gaps are not
  replayed (Friday's last bar is followed by Sunday's first, 60 s later).

A ``Market`` holds, per symbol, every second's close, feature row (``feature_matrix``, the
predictor's and the trainer's definitions), the trainer's label ``close[k + h] > close[k]`` and
the horizon's simple return ``close[k + h] / close[k] - 1`` (the prediction log's
``outcome_return``, which paper trades settle at).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from levibot_common.features import FEATURES, feature_matrix
from levibot_common.seed.generator import SeedSpec, build_log_path, build_rng

SEED_SYMBOLS = ("BTCUSDT", "ETHUSDT")
EURUSD_SYMBOLS = ("EURUSD", "EURUSD_B")
HORIZON_S = 60
BAR_SECONDS = 60
REGIME_SECONDS = 1800.0
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SymbolSeries:
    """One symbol: closes, feature rows (NaN where incomplete), labels and horizon returns
    (both NaN at the end)."""

    closes: FloatArray
    features: FloatArray
    labels: FloatArray
    returns: FloatArray


@dataclass(frozen=True)
class Market:
    """Per-symbol series on one 1-second axis starting at second 0."""

    name: str
    symbols: tuple[str, ...]
    series: tuple[SymbolSeries, ...]

    @property
    def seconds(self) -> int:
        """Length of the axis."""
        return int(self.series[0].closes.shape[0])


def build_series(closes: FloatArray) -> SymbolSeries:
    """Features and labels of one symbol's closes (labels as the trainer's ``build_labels``)."""
    labels = np.full(closes.shape[0], np.nan)
    labels[:-HORIZON_S] = (closes[HORIZON_S:] > closes[:-HORIZON_S]).astype(np.float64)
    returns = np.full(closes.shape[0], np.nan)
    returns[:-HORIZON_S] = closes[HORIZON_S:] / closes[:-HORIZON_S] - 1.0
    return SymbolSeries(closes, feature_matrix(closes, FEATURES), labels, returns)


def build_seed_market(seed: int, seconds: int) -> Market:
    """The seed generator's market with volatility regimes, two symbols, ``seconds`` long."""
    series = []
    for symbol in SEED_SYMBOLS:
        spec = SeedSpec(symbol, 0.0, seconds, seed, regime_seconds=REGIME_SECONDS)
        path, _ = build_log_path(spec, build_rng(spec))
        series.append(build_series(np.exp(path[1:])))
    return Market("seed", SEED_SYMBOLS, tuple(series))


def load_eurusd_bars() -> FloatArray:
    """The bars of ``backtesting/test/EURUSD.csv``: columns high, low, close."""
    text = resources.files("backtesting").joinpath("test/EURUSD.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    return np.array([[float(r["High"]), float(r["Low"]), float(r["Close"])] for r in rows])


def build_bridge_path(bars: FloatArray, rng: np.random.Generator) -> FloatArray:
    """1-s closes: per bar a Brownian bridge between closes, scaled to the bar's range."""
    log_close = np.log(bars[:, 2])
    sigma = np.log(bars[:, 0] / bars[:, 1]) / (1.6 * math.sqrt(BAR_SECONDS))
    n = bars.shape[0] - 1
    walk = np.cumsum(rng.standard_normal((n, BAR_SECONDS)), axis=1) * sigma[1:, None]
    frac = np.arange(1, BAR_SECONDS + 1) / BAR_SECONDS
    bridge = walk - frac[None, :] * walk[:, -1:]
    start, end = log_close[:-1, None], log_close[1:, None]
    path = start + frac[None, :] * (end - start) + bridge
    return np.asarray(np.exp(path.ravel()), dtype=np.float64)


def build_eurusd_market(seed: int, bars: FloatArray, seconds: int) -> Market:
    """EURUSD replayed at ``BAR_SECONDS`` per hourly bar, ``seconds`` long: a stretch starting
    at a bar drawn by ``seed``, and the stretch half the series later as the second symbol."""
    rng = np.random.default_rng([seed, 7])
    count = seconds // BAR_SECONDS + 2
    if count > bars.shape[0] // 2:
        raise ValueError(f"eurusd: {seconds} s need {count} bars, the series has {bars.shape[0]}")
    first = int(rng.integers(0, bars.shape[0] // 2 - count + 1))
    stretches = (bars[first : first + count], bars[first + bars.shape[0] // 2 :][:count])
    series = tuple(build_series(build_bridge_path(b, rng)[:seconds]) for b in stretches)
    return Market("eurusd", EURUSD_SYMBOLS, series)


def slice_market(market: Market, start: int, stop: int) -> Market:
    """The seconds ``[start, stop)`` of every symbol (features keep their own look-back)."""
    series = tuple(
        SymbolSeries(
            s.closes[start:stop],
            s.features[start:stop],
            s.labels[start:stop],
            s.returns[start:stop],
        )
        for s in market.series
    )
    return Market(market.name, market.symbols, series)
