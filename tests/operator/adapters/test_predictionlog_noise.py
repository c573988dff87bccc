"""The stable's paired-trading retraining noise as the trainer recorded it in the registry."""

from __future__ import annotations

import json

import asyncpg
import pytest

from levibot_operator.adapters.predictionlog import fetch_retrain_noise
from levibot_operator.core.canary.trading_band import RetrainNoise
from tests.trainer.support.db import connect_with_schema

pytestmark = pytest.mark.postgres


async def test_the_noise_is_the_versions_backtest_metric(pg_dsn: str) -> None:
    conn: asyncpg.Connection = await connect_with_schema(pg_dsn)
    insert = (
        "INSERT INTO model_registry (model_name, version, onnx, sha256, metrics) "
        "VALUES ('ns.md', $1, '\\x00', 'x', $2::jsonb)"
    )
    noise = {"margin": 1e-5, "hourly": 4e-6, "returnSd": 1e-3, "positionSd": 2e-3, "retrains": 8}
    try:
        await conn.execute(insert, "v1", json.dumps({"backtest": {"retrainNoise": noise}}))
        await conn.execute(insert, "v2", json.dumps({"backtest": {"periodSeconds": 60}}))
        await conn.execute(
            insert, "v3", json.dumps({"backtest": {"retrainNoise": {"margin": 1.0}}})
        )
        found = [await fetch_retrain_noise(conn, "ns.md", v) for v in ("v1", "v2", "v3", "v4")]
    finally:
        await conn.close()
    assert found == [RetrainNoise(1e-5, 4e-6, 1e-3, 2e-3), None, None, None]
