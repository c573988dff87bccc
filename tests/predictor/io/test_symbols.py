"""Symbol endpoint, prediction log and outcomes against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from levibot_common.features import latest_features
from levibot_predictor.io.database import Database
from levibot_predictor.io.loader import fetch_model_from_registry
from tests.predictor.support.db import connect, insert_ticks, make_prices, register_model
from tests.predictor.support.models import make_loaded, make_model, make_settings, running_app

pytestmark = pytest.mark.postgres
MODEL = make_model()
LABELS = {"model": "demo", "version": "v1", "track": "stable"}


async def wait_for(predicate: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_symbol_prediction_uses_the_shared_features(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    now = time.time()
    prices = make_prices(400, seed=5)
    await insert_ticks(conn, "BTCUSDT", int(now) - 400, prices)
    settings = make_settings(dsn=pg_dsn, symbols=["BTCUSDT"])
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        cache = running.app.state.service.cache.symbols["BTCUSDT"]
        await wait_for(lambda: cache.state.features is not None)
        body = (await running.client.post("/v1/predict/BTCUSDT")).json()
        await wait_for(lambda: running.app.state.service.log.written >= 1)
    expected_row = latest_features(prices, MODEL.features)
    assert expected_row is not None
    expected = MODEL.sklearn.predict_proba(expected_row.reshape(1, -1).astype(np.float32))[0, 1]
    assert body["fallback"] is False
    assert body["p_up"] == pytest.approx(expected, abs=1e-5)
    assert 0 <= body["staleness_seconds"] < 5
    logged = await conn.fetchrow(
        "SELECT * FROM prediction_log WHERE id = $1", body["prediction_id"]
    )
    assert logged["symbol"] == "BTCUSDT"
    assert logged["p_up"] == pytest.approx(body["p_up"])
    assert logged["signal"] == body["signal"]
    await conn.close()


async def test_incremental_refresh_follows_new_ticks(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    start = int(time.time()) - 400
    prices = make_prices(420, seed=9)
    await insert_ticks(conn, "ETHUSDT", start, prices[:390])
    settings = make_settings(dsn=pg_dsn, symbols=["ETHUSDT"])
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        cache = running.app.state.service.cache.symbols["ETHUSDT"]
        await wait_for(lambda: cache.state.features is not None)
        await insert_ticks(conn, "ETHUSDT", start + 390, prices[390:395])
        await wait_for(lambda: cache.buffer.seconds[-1] == start + 394)
        served = cache.state.features
    expected = latest_features(prices[:395], MODEL.features)
    assert expected is not None
    np.testing.assert_allclose(served, expected, rtol=1e-12)
    await conn.close()


async def test_stale_data_falls_back_to_the_zscore_rule(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    prices = np.concatenate([np.full(340, 100.0), np.linspace(100.0, 101.0, 60)])  # z > 1
    await insert_ticks(conn, "BTCUSDT", int(time.time()) - 1000, prices)
    settings = make_settings(dsn=pg_dsn, symbols=["BTCUSDT"], fallback="zscore",
                             staleness_limit_seconds=60)  # fmt: skip
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        cache = running.app.state.service.cache.symbols["BTCUSDT"]
        await wait_for(lambda: cache.state.features is not None)
        body = (await running.client.post("/v1/predict/BTCUSDT")).json()
        count = running.metric("levibot_fallback_events_total", **LABELS, reason="stale_data")
        staleness = running.metric("levibot_features_staleness_seconds", **LABELS, symbol="BTCUSDT")
    assert (body["fallback"], body["reason"], body["signal"]) == (True, "stale_data", "BUY")
    assert body["p_up"] is None
    assert body["staleness_seconds"] > 600
    assert count == 1.0
    assert staleness is not None
    assert staleness > 600
    await conn.close()


async def test_registry_load_verifies_and_reorders_the_reference(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    await register_model(conn, MODEL, horizon=30)
    await conn.close()
    settings = make_settings(dsn=pg_dsn)
    database = Database(pg_dsn, 2.0)
    loaded = await fetch_model_from_registry(database, settings)
    await database.close()
    assert loaded.runtime.info.horizon_seconds == 30
    assert loaded.runtime.info.features == MODEL.features
    assert loaded.reference is not None
    assert loaded.reference.rows.shape == (2000, 6)
