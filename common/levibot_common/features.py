"""Feature definitions (shared core, pure): the one place trainer and predictor compute features.

Every feature is a function of the 1-second close prices of one symbol, oldest first (see
docs/contracts.md). Row ``t`` needs the ``LOOKBACK_SECONDS`` prices ``p[t-300..t]``; a row whose
window is incomplete, or touches a non-finite or non-positive price, is NaN and is dropped (and
counted) by the caller. The trainer's ``feature_matrix`` and the predictor's ``latest_features``
run the same window code, so a timestamp gets the same values in both (train/serve parity).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

FEATURES: tuple[str, ...] = ("ret_1m", "ret_5m", "vol_1m", "vol_5m", "rsi_14", "zscore_60")
"""The known features, in their canonical order."""

LOOKBACK_SECONDS = 301
"""Prices needed before and including ``t``: 300 one-second log returns for ``vol_5m``."""

RSI_PERIOD = 14
FEATURE_LOOKBACK_SECONDS: dict[str, int] = {
    "ret_1m": 61,  # p[t-60] and p[t]
    "ret_5m": LOOKBACK_SECONDS,  # p[t-300] and p[t]
    "vol_1m": 61,  # 60 one-second log returns
    "vol_5m": LOOKBACK_SECONDS,  # 300 one-second log returns
    "rsi_14": RSI_PERIOD + 1,  # 14 price changes
    "zscore_60": 60,  # the last 60 prices
}
"""Prices each feature's value depends on (its own window, not the shared 301-price window)."""
_CHUNK_ROWS = 8192  # bounds the (rows x 301) temporaries to a few tens of MB

FloatArray = NDArray[np.float64]
_Windows = tuple[FloatArray, FloatArray, FloatArray]  # prices (n,301), log returns, changes (n,300)


class UnknownFeatureError(ValueError):
    """A feature name that is not in ``FEATURES``."""

    def __init__(self, name: str) -> None:
        super().__init__(f"features: unknown feature {name!r}; known features are {list(FEATURES)}")
        self.name = name


def validate_feature_names(names: Sequence[str]) -> tuple[str, ...]:
    """The names as a tuple; raises ``UnknownFeatureError`` or ``ValueError`` (empty, repeated)."""
    if isinstance(names, str):
        raise ValueError("features: expected a list of feature names, got a single string")
    if len(names) == 0:
        raise ValueError("features: at least one feature name is required")
    for name in names:
        if name not in FEATURES:
            raise UnknownFeatureError(str(name))
    if len(set(names)) != len(names):
        raise ValueError(f"features: repeated feature name in {list(names)}")
    return tuple(names)


def lookback_seconds(names: Sequence[str]) -> int:
    """Prices the selected features depend on: the longest of their own windows. Two rows more
    than this apart share no price through their features (the statistics' block length uses
    it); rows are still computed, and dropped, on the whole ``LOOKBACK_SECONDS`` window."""
    return max(FEATURE_LOOKBACK_SECONDS[name] for name in validate_feature_names(names))


def _ret_1m(w: _Windows) -> FloatArray:
    prices = w[0]
    return prices[:, -1] / prices[:, -61] - 1.0


def _ret_5m(w: _Windows) -> FloatArray:
    prices = w[0]
    return prices[:, -1] / prices[:, 0] - 1.0


def _vol_1m(w: _Windows) -> FloatArray:
    vol: FloatArray = np.std(w[1][:, -60:], axis=1)
    return vol


def _vol_5m(w: _Windows) -> FloatArray:
    vol: FloatArray = np.std(w[1], axis=1)
    return vol


def _rsi_14(w: _Windows) -> FloatArray:
    changes = w[2][:, -RSI_PERIOD:]
    gains = np.sum(np.where(changes > 0.0, changes, 0.0), axis=1)
    losses = np.sum(np.where(changes < 0.0, -changes, 0.0), axis=1)
    total = gains + losses
    flat = total == 0.0
    return np.where(flat, 50.0, 100.0 * gains / np.where(flat, 1.0, total))


def _zscore_60(w: _Windows) -> FloatArray:
    last60 = w[0][:, -60:]
    std = np.std(last60, axis=1)
    deviation = last60[:, -1] - np.mean(last60, axis=1)
    return np.where(std == 0.0, 0.0, deviation / np.where(std == 0.0, 1.0, std))


_DEFINITIONS: dict[str, Callable[[_Windows], FloatArray]] = {
    "ret_1m": _ret_1m,
    "ret_5m": _ret_5m,
    "vol_1m": _vol_1m,
    "vol_5m": _vol_5m,
    "rsi_14": _rsi_14,
    "zscore_60": _zscore_60,
}


def _clean_prices(closes: NDArray[np.float64]) -> FloatArray:
    prices = np.asarray(closes, dtype=np.float64)
    if prices.ndim != 1:
        raise ValueError(f"closes: expected a 1-D array of prices, got shape {prices.shape}")
    valid = np.isfinite(prices) & (prices > 0.0)
    return prices if bool(valid.all()) else np.where(valid, prices, np.nan)


def _window_rows(prices: FloatArray, names: tuple[str, ...]) -> FloatArray:
    """Features for every full window of ``prices`` (one row per window end)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        log_returns = np.diff(np.log(prices))
        changes = np.diff(prices)
    width = LOOKBACK_SECONDS - 1
    windows = (
        sliding_window_view(prices, LOOKBACK_SECONDS),
        sliding_window_view(log_returns, width),
        sliding_window_view(changes, width),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        columns = [_DEFINITIONS[name](windows) for name in names]
    rows = np.column_stack(columns)
    rows[~np.isfinite(rows).all(axis=1)] = np.nan
    return rows


def feature_matrix(closes: NDArray[np.float64], names: Sequence[str] = FEATURES) -> FloatArray:
    """Features for every index of ``closes``: shape (len(closes), len(names)), NaN rows where the
    window is incomplete or touches an invalid price. Memory is bounded by chunking the rows."""
    selected = validate_feature_names(names)
    prices = _clean_prices(closes)
    out = np.full((prices.shape[0], len(selected)), np.nan)
    first = LOOKBACK_SECONDS - 1
    for start in range(first, prices.shape[0], _CHUNK_ROWS):
        stop = min(start + _CHUNK_ROWS, prices.shape[0])
        out[start:stop] = _window_rows(prices[start - first : stop], selected)
    return out


def latest_features(
    closes: NDArray[np.float64], names: Sequence[str] = FEATURES
) -> FloatArray | None:
    """The feature row of the last price (only its window is computed), None if incomplete."""
    selected = validate_feature_names(names)
    prices = _clean_prices(closes)
    if prices.shape[0] < LOOKBACK_SECONDS:
        return None
    row = _window_rows(prices[-LOOKBACK_SECONDS:], selected)[0]
    return None if bool(np.isnan(row).any()) else row
