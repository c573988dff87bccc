"""Pure helpers for trainer tests: synthetic closes without a database, settings builders."""

from __future__ import annotations

from typing import Any

import numpy as np

from levibot_common.candles import build_filled_closes
from levibot_common.seed import SeedSpec, build_ticks
from levibot_trainer.io.market import SymbolCloses
from levibot_trainer.settings import TrainerSettings


def synthetic_closes(symbol: str, seconds: int, seed: int, signal: float) -> SymbolCloses:
    """1-second closes of generated ticks, binned the way the SQL does (last tick per second)."""
    ticks = build_ticks(SeedSpec(symbol, 1_700_000_000.0, seconds, seed, signal=signal))
    second = np.floor(ticks.epoch).astype(np.int64)
    last = np.r_[second[1:] != second[:-1], True]
    grid, closes = build_filled_closes(
        second[last], ticks.price[last], int(second[0]), int(second[-1]), None
    )
    return SymbolCloses(symbol, grid, closes)


def make_settings(**overrides: Any) -> TrainerSettings:
    """Valid settings for tests (no env involved), with overrides."""
    values: dict[str, Any] = {
        "dsn": "postgresql://nobody@127.0.0.1:1/none",
        "model_name": "test.model",
        "version": "v1",
        "symbols": ["BTCUSDT"],
        "data_window_seconds": 3600,
        "result_path": "/dev/null",
    }
    values.update(overrides)
    return TrainerSettings(**values)
