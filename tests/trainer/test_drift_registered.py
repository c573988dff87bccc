"""Issue 14, item 1: every registered version carries its calibrated drift thresholds.

Through the CLI and real PostgreSQL: the registry's metrics have ``drift_thresholds`` for the
drift windows, persistence and rate the Job was given, one PSI and one KS p-value threshold per
feature, and the predictor reads them back as calibrated; the stage timings show the drift
stage. The result document keeps only scalar metrics (the thresholds stay in the registry).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from levibot_predictor.core.drift_score import parse_thresholds
from tests.trainer.support.cli import END, read_version, run_train, train_args
from tests.trainer.support.db import connect_with_schema, seed_ticks

pytestmark = pytest.mark.postgres
FEATURES = ("ret_1m", "ret_5m", "vol_1m", "vol_5m", "rsi_14", "zscore_60")


async def seed(dsn: str) -> None:
    conn = await connect_with_schema(dsn)
    try:
        end = datetime.fromisoformat(END)
        await seed_ticks(conn, ("BTCUSDT", "ETHUSDT"), end=end, seconds=7200, seed=5, signal=0.2)
    finally:
        await conn.close()


def test_registered_version_carries_its_drift_thresholds(pg_dsn: str, tmp_path: Path) -> None:
    asyncio.run(seed(pg_dsn))
    result = tmp_path / "result.json"
    flags = {
        "symbols": '["BTCUSDT", "ETHUSDT"]', "drift_window_seconds": "600",
        "drift_thin_seconds": "30", "drift_interval_seconds": "10", "drift_min_rows": "20",
        "drift_alert_for_seconds": "60", "drift_false_alarms_per_day": "0.5",
    }  # fmt: skip
    code, document = run_train(train_args(pg_dsn, result, **flags), result)
    assert code == 0, document
    metrics = asyncio.run(read_version(pg_dsn, "ns.md", "v1")).metrics
    drift = metrics["drift_thresholds"]
    assert drift["false_alarms_per_day"] == 0.5
    assert drift["monitoring"] == {
        "window_seconds": 600, "thin_seconds": 30, "interval_seconds": 10, "min_rows": 20,
        "for_seconds": 60,
    }  # fmt: skip
    thresholds = parse_thresholds(metrics, FEATURES)
    assert thresholds.calibrated
    assert all(t > 0 for t in thresholds.psi)
    assert all(0 < p < 1 for p in thresholds.ks_pvalue)
    assert len(thresholds.tail) == len(thresholds.tail_symbol) == len(FEATURES)
    assert "drift" in document["stagesSeconds"]
    assert "drift_thresholds" not in document["metrics"]
