"""Acceptance: the trainer's features for a set of timestamps equal what the predictor's code
(levibot_common.candles.fetch_closes over the last few minutes + latest_features) computes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from levibot_common.candles import fetch_closes
from levibot_common.features import FEATURES, latest_features
from levibot_trainer.core.dataset import build_symbol_rows
from levibot_trainer.io.market import fetch_training_closes
from tests.trainer.support.db import connect_with_schema, seed_ticks

pytestmark = pytest.mark.postgres

END = datetime(2025, 3, 1, tzinfo=UTC)


async def test_trainer_and_predictor_features_agree(pg_dsn: str) -> None:
    conn = await connect_with_schema(pg_dsn)
    try:
        await seed_ticks(conn, ["BTCUSDT"], end=END, seconds=3600, seed=9, signal=0.1)
        await conn.execute(  # a quiet minute: forward-filling must agree too
            "DELETE FROM market_ticks WHERE ts >= $1 AND ts < $2",
            END - timedelta(minutes=30), END - timedelta(minutes=29),
        )  # fmt: skip
        (part,) = await fetch_training_closes(conn, ["BTCUSDT"], END - timedelta(hours=1), END)
        rows = build_symbol_rows(part.seconds, part.closes, FEATURES, 60)
        picks = np.random.default_rng(0).choice(rows.size, 25, replace=False)
        picks = np.append(
            picks, np.searchsorted(rows.t, int((END - timedelta(minutes=29)).timestamp()))
        )
        served = []
        for index in picks:
            t = datetime.fromtimestamp(int(rows.t[index]), UTC)
            _, closes = await fetch_closes(conn, "BTCUSDT", t - timedelta(seconds=400), t)
            served.append(latest_features(closes))
    finally:
        await conn.close()
    assert all(row is not None for row in served)
    np.testing.assert_allclose(np.array(served), rows.x[picks], rtol=1e-12, atol=0)
