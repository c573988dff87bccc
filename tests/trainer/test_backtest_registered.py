"""Issue 15, part 2: every registered version carries its backtest beside the no-skill baselines.

Through the CLI and real PostgreSQL: the registry's ``metrics["backtest"]`` has the model's paper
trading on the test split (serving thresholds and spec costs from the flags), always HOLD and
buy-and-hold, the training rows' horizon-return volatility, and the result document (the Job's
log) shows the headline figures.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from tests.trainer.support.cli import END, read_version, run_train, train_args
from tests.trainer.support.db import connect_with_schema, seed_ticks

pytestmark = pytest.mark.postgres
SUMMARY_KEYS = {"trades", "wins", "winRate", "winRateLow", "winRateHigh", "averageTrade",
                "profitFactor", "pnl", "sharpe", "maxDrawdown"}  # fmt: skip


async def seed(dsn: str) -> None:
    conn = await connect_with_schema(dsn)
    try:
        end = datetime.fromisoformat(END)
        await seed_ticks(conn, ("BTCUSDT", "ETHUSDT"), end=end, seconds=7200, seed=5, signal=0.2)
    finally:
        await conn.close()


def test_registered_version_carries_its_backtest_and_baselines(pg_dsn: str, tmp_path: Path) -> None:
    asyncio.run(seed(pg_dsn))
    result = tmp_path / "result.json"
    flags = {"symbols": '["BTCUSDT", "ETHUSDT"]', "buy_threshold": "0.52",
             "sell_threshold": "0.48", "fee_bps": "2", "slippage_bps": "1"}  # fmt: skip
    code, document = run_train(train_args(pg_dsn, result, **flags), result)
    assert code == 0, document
    backtest = asyncio.run(read_version(pg_dsn, "ns.md", "v1")).metrics["backtest"]
    for side in ("model", "hold", "buyAndHold"):
        assert set(backtest[side]) == SUMMARY_KEYS
    assert backtest["costs"] == {"feeBps": 2.0, "slippageBps": 1.0}
    assert backtest["policy"] == {"buyThreshold": 0.52, "sellThreshold": 0.48}
    assert (backtest["hold"]["trades"], backtest["hold"]["pnl"]) == (0, 0.0)
    # two symbols, one long a horizon (60 s) over the ~24-min test split each
    assert 40 <= backtest["buyAndHold"]["trades"] <= 2 * 25
    assert 0 < backtest["model"]["trades"] <= backtest["buyAndHold"]["trades"]
    assert 0 < backtest["horizonReturnStd"] < 0.05
    assert set(backtest["horizonReturnStdBySymbol"]) == {"BTCUSDT", "ETHUSDT"}
    assert document["backtest"]["model"]["trades"] == backtest["model"]["trades"]
    assert set(document["backtest"]) == {"model", "hold", "buyAndHold"}
    assert "backtest" in document["stagesSeconds"]
    assert len(result.read_text()) < 3000  # the termination log keeps 4 KiB


def test_serving_thresholds_must_be_ordered(pg_dsn: str, tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    flags = {"buy_threshold": "0.4", "sell_threshold": "0.6"}
    code, document = run_train(train_args(pg_dsn, result, **flags), result)
    assert code == 2
    assert "sell_threshold" in document["message"]
