"""Outcome resolution, feedback and the calibration gauges against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import numpy as np
import pytest

from tests.predictor.support.db import connect, insert_ticks, make_prices
from tests.predictor.support.models import make_loaded, make_model, make_settings, running_app

pytestmark = pytest.mark.postgres
MODEL = make_model()
LABELS = {"model": "demo", "version": "v1", "track": "stable"}
HORIZON = 30


def independent_ece(p: list[float], y: list[int]) -> float:
    """ECE by the textbook loop: 10 equal-width bins, |avg p - avg y| weighted by bin share."""
    total = 0.0
    for b in range(10):
        members = [i for i, v in enumerate(p) if min(int(v * 10), 9) == b]
        if members:
            gap = abs(
                sum(p[i] for i in members) / len(members)
                - sum(y[i] for i in members) / len(members)
            )
            total += gap * len(members) / len(p)
    return total


async def test_resolved_outcomes_drive_ece_brier_and_accuracy(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    start = int(time.time()) - 500
    prices = make_prices(500, seed=11)
    await insert_ticks(conn, "BTCUSDT", start, prices)
    rng = np.random.default_rng(4)
    offsets = rng.integers(0, 500 - HORIZON - 1, size=300)
    p_up = rng.uniform(0, 1, size=300).round(6)
    records = [
        (int(i + 1), "ns.demo", "v1", "stable", "BTCUSDT",
         datetime.fromtimestamp(start + int(o) + 0.7, UTC), float(p), "HOLD", False, HORIZON)
        for i, (o, p) in enumerate(zip(offsets, p_up, strict=True))
    ]  # fmt: skip
    await conn.copy_records_to_table("prediction_log", records=records, columns=(
        "id", "model_name", "version", "track", "symbol", "ts", "p_up", "signal", "fallback",
        "horizon_seconds"))  # fmt: skip
    # tick i is at start + i + 0.5: the last tick at or before start + o + 0.7 is tick o.
    outcomes = [int(prices[o + HORIZON] > prices[o]) for o in offsets]
    settings = make_settings(dsn=pg_dsn, horizon_seconds=HORIZON)
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        deadline = time.monotonic() + 10
        while running.metric("levibot_resolved_predictions", **LABELS) != 300.0:
            assert time.monotonic() < deadline, "outcomes not resolved in time"
            await asyncio.sleep(0.05)
        ece = running.metric("levibot_model_ece", **LABELS)
        brier = running.metric("levibot_model_brier", **LABELS)
        accuracy = running.metric("levibot_model_accuracy", **LABELS)
    stored = await conn.fetch("SELECT id, outcome FROM prediction_log ORDER BY id")
    assert [r["outcome"] for r in stored] == outcomes
    p_list = [float(p) for p in p_up]
    assert ece == pytest.approx(independent_ece(p_list, outcomes), abs=1e-12)
    assert brier == pytest.approx(float(np.mean((p_up - np.array(outcomes)) ** 2)), abs=1e-12)
    expected_acc = float(
        np.mean([(p >= 0.5) == bool(y) for p, y in zip(p_list, outcomes, strict=True)])
    )
    assert accuracy == pytest.approx(expected_acc, abs=1e-12)
    await conn.close()


async def test_predictions_stay_unresolved_until_the_horizon_has_a_price(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    start = int(time.time()) - 100
    await insert_ticks(conn, "BTCUSDT", start, make_prices(100, seed=2))
    ts = datetime.fromtimestamp(start + 80, UTC)  # ts + 30 s is past the last tick
    await conn.execute(
        "INSERT INTO prediction_log (id, model_name, version, track, symbol, ts, p_up, signal,"
        " horizon_seconds) VALUES (1, 'ns.demo', 'v1', 'stable', 'BTCUSDT', $1, 0.5, 'HOLD', 30)",
        ts,
    )
    settings = make_settings(dsn=pg_dsn, horizon_seconds=HORIZON)
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        await asyncio.sleep(0.5)
        resolved = running.metric("levibot_resolved_predictions", **LABELS)
    assert resolved == 0.0
    assert await conn.fetchval("SELECT outcome FROM prediction_log WHERE id = 1") is None
    await conn.close()


async def test_feedback_sets_outcomes_by_prediction_id(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    settings = make_settings(dsn=pg_dsn)
    row = dict.fromkeys(MODEL.features, 0.0)
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        body = (await running.client.post("/v1/predict", json={"rows": [row, row]})).json()
        ids = [p["prediction_id"] for p in body["predictions"]]
        deadline = time.monotonic() + 5
        while running.app.state.service.log.written < 2:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        outcomes = [{"prediction_id": ids[0], "outcome": 1}, {"prediction_id": 12345, "outcome": 0}]
        answer = await running.client.post("/v1/feedback", json={"outcomes": outcomes})
        bad = await running.client.post(
            "/v1/feedback", json={"outcomes": [{"prediction_id": 1, "outcome": 2}]}
        )
        deadline = time.monotonic() + 5
        while running.metric("levibot_resolved_predictions", **LABELS) != 1.0:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
    assert answer.status_code == 200
    assert answer.json() == {"updated": 1, "unknown": [12345]}
    assert bad.status_code == 422
    assert await conn.fetchval("SELECT outcome FROM prediction_log WHERE id = $1", ids[0]) == 1
    features = await conn.fetchval("SELECT features FROM prediction_log WHERE id = $1", ids[1])
    assert '"ret_1m": 0.0' in features
    await conn.close()
