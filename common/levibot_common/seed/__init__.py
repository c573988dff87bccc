"""Synthetic market data for demos and tests (shared): a pure generator and an async loader.

``python -m levibot_common.seed --dsn ... --symbols BTCUSDT,ETHUSDT --hours 6 --seed 1``;
see ``generator`` for the model (GBM, volatility regimes, a weak known momentum component).
"""

from levibot_common.seed.generator import (
    DEFAULT_SIGNAL,
    SeedSpec,
    TickBatch,
    build_seed_specs,
    build_ticks,
)
from levibot_common.seed.loader import LoadReport, apply_ticks, load_history, run_live

__all__ = [
    "DEFAULT_SIGNAL",
    "LoadReport",
    "SeedSpec",
    "TickBatch",
    "apply_ticks",
    "build_seed_specs",
    "build_ticks",
    "load_history",
    "run_live",
]
