"""Test support: market ticks and registry rows in a real PostgreSQL for predictor tests."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import numpy as np

from levibot_common.registry import DriftReference, register_version
from levibot_common.schema import apply_schema
from tests.predictor.support.models import TestModel


async def connect(dsn: str) -> asyncpg.Connection:
    """A connection with the schema applied."""
    conn = await asyncpg.connect(dsn)
    await apply_schema(conn)
    return conn


def make_prices(seconds: int, seed: int = 0, start: float = 100.0) -> np.ndarray:
    """A random walk of one price per second."""
    rng = np.random.default_rng(seed)
    return start * np.exp(np.cumsum(rng.standard_normal(seconds) * 2e-4))


async def insert_ticks(
    conn: asyncpg.Connection, symbol: str, first_second: float, prices: np.ndarray
) -> None:
    """One tick per second from ``first_second`` (epoch seconds), at +0.5 s in each second."""
    records = [
        (symbol, datetime.fromtimestamp(first_second + i + 0.5, UTC), float(p), 1.0)
        for i, p in enumerate(prices)
    ]
    await conn.copy_records_to_table(
        "market_ticks", records=records, columns=("symbol", "ts", "price", "qty")
    )


async def register_model(
    conn: asyncpg.Connection, model: TestModel, name: str = "ns.demo", version: str = "v1",
    horizon: int = 60,
) -> None:  # fmt: skip
    """Register ``model`` with its training rows as drift reference."""
    await register_version(
        conn, model_name=name, version=version, onnx=model.onnx,
        metadata={"features": list(model.features), "horizon_seconds": horizon},
        metrics={}, reference=DriftReference(model.features, model.train_rows[:2000]),
    )  # fmt: skip
