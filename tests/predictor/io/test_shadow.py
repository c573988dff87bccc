"""Shadow scoring through the registry (real PostgreSQL): a pair appears, the partner is loaded
within the poll interval and every served row is logged with both answers; the pair is cleared,
shadow stops. Failures of the partner never fail a request."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from levibot_common.features import FEATURES
from levibot_common.registry import apply_shadow_pair, clear_shadow_pair
from levibot_predictor.core.policy import Thresholds, decide_signal
from tests.predictor.support.db import connect, insert_ticks, make_prices, register_model
from tests.predictor.support.models import (
    make_loaded,
    make_model,
    make_rows,
    make_settings,
    running_app,
)

pytestmark = pytest.mark.postgres
MODEL, PARTNER = make_model(seed=0), make_model(seed=7)
LABELS = {"model": "demo", "version": "v1", "track": "stable"}
POLL = 0.1
ROWS = make_rows(5, seed=9)
BODY = {"rows": [dict(zip(FEATURES, map(float, r), strict=True)) for r in ROWS]}
THRESHOLDS = Thresholds(0.55, 0.45)


async def wait_for(predicate: Callable[[], object], seconds: float = 5.0) -> float:
    """Seconds until ``predicate()`` held."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < seconds, "condition not met in time"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def answers(body: dict[str, Any]) -> list[tuple[float, str]]:
    return [(p["p_up"], p["signal"]) for p in body["predictions"]]


async def test_a_pair_shadows_every_row_until_it_is_cleared(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    await register_model(conn, MODEL, version="v1")
    await register_model(conn, PARTNER, version="v2")
    settings = make_settings(dsn=pg_dsn, shadow_poll_seconds=POLL)
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        service, post = running.app.state.service, running.client.post
        await wait_for(lambda: running.metric("levibot_shadow_active", **LABELS, partner="") == 0)
        plain = (await post("/v1/predict", json=BODY)).json()
        await apply_shadow_pair(conn, "ns.demo", "v1", "v2", "demo-v2")
        loaded_in = await wait_for(lambda: service.shadow.current is not None)
        await wait_for(lambda: running.metric("levibot_shadow_active", **LABELS, partner="v2"))
        shadowed = (await post("/v1/predict", json=BODY)).json()
        await wait_for(lambda: service.log.written >= 10)
        await clear_shadow_pair(conn, "ns.demo", "demo-v2")
        await wait_for(lambda: service.shadow.current is None)
        after = (await post("/v1/predict", json=BODY)).json()
        await wait_for(lambda: service.log.written >= 15)
        active_after = running.metric("levibot_shadow_active", **LABELS, partner="v2")
    logged = await conn.fetch(
        "SELECT version, p_up, shadow_version, shadow_p_up, shadow_signal FROM prediction_log "
        "ORDER BY id"
    )
    await conn.close()
    assert loaded_in < POLL + 2.0  # one poll, one registry read, one session build
    assert answers(shadowed) == answers(plain) == answers(after)  # the answer is unchanged
    assert (shadowed["version"], shadowed["track"]) == ("v1", "stable")
    expected = PARTNER.sklearn.predict_proba(ROWS.astype(np.float32).astype(np.float64))[:, 1]
    middle = logged[5:10]
    np.testing.assert_allclose([r["shadow_p_up"] for r in middle], expected, atol=1e-5)
    assert [r["shadow_signal"] for r in middle] == [
        decide_signal(r["shadow_p_up"], THRESHOLDS) for r in middle
    ]
    assert {r["shadow_version"] for r in middle} == {"v2"}
    assert [r["p_up"] for r in middle] == [p for p, _ in answers(plain)]
    for row in [*logged[:5], *logged[10:]]:  # before the pair and after it was cleared
        assert (row["shadow_version"], row["shadow_p_up"], row["shadow_signal"]) == (None,) * 3
    assert active_after is None


async def test_the_symbol_endpoint_is_shadowed_from_the_candidate_side(pg_dsn: str) -> None:
    """The candidate's pods score the stable version: pairs are symmetric."""
    conn = await connect(pg_dsn)
    await insert_ticks(conn, "BTCUSDT", int(time.time()) - 400, make_prices(400, seed=5))
    await register_model(conn, PARTNER, version="v1")
    await register_model(conn, MODEL, version="v2")
    await apply_shadow_pair(conn, "ns.demo", "v1", "v2", "demo-v2")
    settings = make_settings(dsn=pg_dsn, version="v2", track="canary", symbols=["BTCUSDT"],
                             shadow_poll_seconds=POLL)  # fmt: skip
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        service = running.app.state.service
        await wait_for(lambda: service.cache.symbols["BTCUSDT"].state.features is not None)
        await wait_for(lambda: service.shadow.current is not None)
        body = (await running.client.post("/v1/predict/BTCUSDT")).json()
        await wait_for(lambda: service.log.written >= 1)
    row = await conn.fetchrow("SELECT p_up, features::text, shadow_version, shadow_p_up "
                              "FROM prediction_log")  # fmt: skip
    await conn.close()
    assert body["p_up"] == row["p_up"]
    assert row["shadow_version"] == "v1"
    stored = json.loads(row["features"])  # jsonb orders keys its own way: read by name
    features = np.array([[float(stored[name]) for name in FEATURES]])
    expected = PARTNER.sklearn.predict_proba(features.astype(np.float32).astype(np.float64))
    assert row["shadow_p_up"] == pytest.approx(expected[0, 1], abs=1e-5)


async def test_a_tampered_partner_is_counted_and_never_served(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    await register_model(conn, MODEL, version="v1")
    await register_model(conn, PARTNER, version="v2")
    await conn.execute("UPDATE model_registry SET onnx = 'evil'::bytea WHERE version = 'v2'")
    await apply_shadow_pair(conn, "ns.demo", "v1", "v2", "demo-v2")
    settings = make_settings(dsn=pg_dsn, shadow_poll_seconds=POLL)
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        errors = {**LABELS, "stage": "load"}
        await wait_for(lambda: (running.metric("levibot_shadow_errors_total", **errors) or 0) >= 2)
        response = await running.client.post("/v1/predict", json=BODY)
        await wait_for(lambda: running.app.state.service.log.written >= 5)
        active = running.metric("levibot_shadow_active", **LABELS, partner="")
    shadow = await conn.fetch("SELECT shadow_version FROM prediction_log")
    await conn.close()
    assert response.status_code == 200
    assert active == 0
    assert {r["shadow_version"] for r in shadow} == {None}
