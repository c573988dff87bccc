"""Issue 15: a registered version carries its retrains' paired paper-trading noise.

Through the CLI and real PostgreSQL: ``metrics["backtest"]["retrainNoise"]`` holds the margin
and hourly sd of the paired paper-return difference of the envelope's retrains against the
version on its test split, and that split's return sd (``core.trading_noise``), which the
canary's trading check reads; a test split shorter than ``MIN_NOISE_BLOCKS`` blocks of horizon +
feature window records none.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from tests.trainer.support.cli import END, read_version, run_train, train_args
from tests.trainer.support.db import connect_with_schema, seed_ticks

pytestmark = pytest.mark.postgres


async def seed(dsn: str, seconds: int) -> None:
    conn = await connect_with_schema(dsn)
    try:
        end = datetime.fromisoformat(END)
        await seed_ticks(conn, ("BTCUSDT", "ETHUSDT"), end=end, seconds=seconds, seed=5, signal=0.2)
    finally:
        await conn.close()


@pytest.mark.parametrize(("seconds", "recorded"), [(7200, False), (18000, True)])
def test_registered_version_carries_its_retrain_noise(
    pg_dsn: str, tmp_path: Path, seconds: int, recorded: bool
) -> None:
    asyncio.run(seed(pg_dsn, seconds))
    result = tmp_path / "result.json"
    flags = {"symbols": '["BTCUSDT", "ETHUSDT"]', "data_window_seconds": str(seconds)}
    code, document = run_train(train_args(pg_dsn, result, **flags), result)
    assert code == 0, document
    backtest = asyncio.run(read_version(pg_dsn, "ns.md", "v1")).metrics["backtest"]
    if not recorded:  # a ~24-min test split holds 3 blocks of 361 s
        assert "retrainNoise" not in backtest
        return
    noise = backtest["retrainNoise"]
    assert set(noise) == {
        "margin", "hourly", "returnSd", "positionSd", "units", "retrains", "blockSeconds",
    }  # fmt: skip
    assert noise["retrains"] == 8
    assert noise["blockSeconds"] == 361.0
    assert noise["margin"] >= 0.0
    assert noise["hourly"] > 0.0
    assert 0.0 < noise["returnSd"] < 0.05
