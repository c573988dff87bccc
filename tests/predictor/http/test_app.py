"""HTTP app with a real onnxruntime model and no database: predictions, validation, kill-switch."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from tests.predictor.support.models import (
    make_loaded,
    make_model,
    make_rows,
    make_settings,
    running_app,
)

MODEL = make_model()
FEATURES = MODEL.features


def body_for(rows: np.ndarray) -> dict[str, list[dict[str, float]]]:
    return {"rows": [dict(zip(FEATURES, map(float, row), strict=True)) for row in rows]}


async def test_predictions_equal_the_models_probabilities() -> None:
    settings = make_settings()
    rows = make_rows(50, seed=7)
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        response = await running.client.post("/v1/predict", json=body_for(rows))
    assert response.status_code == 200
    body = response.json()
    expected = MODEL.sklearn.predict_proba(rows.astype(np.float32))[:, 1]
    got = np.array([p["p_up"] for p in body["predictions"]])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert (body["model"], body["version"], body["track"]) == ("demo", "v1", "stable")
    assert body["fallback"] is False
    assert body["reason"] is None
    ids = [p["prediction_id"] for p in body["predictions"]]
    assert len(set(ids)) == 50


async def test_signals_follow_the_thresholds() -> None:
    settings = make_settings(buy_threshold=0.6, sell_threshold=0.4)
    rows = make_rows(200, seed=3)
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        body = (await running.client.post("/v1/predict", json=body_for(rows))).json()
    for prediction in body["predictions"]:
        p = prediction["p_up"]
        expected = "BUY" if p >= 0.6 else "SELL" if p <= 0.4 else "HOLD"
        assert prediction["signal"] == expected
    assert {p["signal"] for p in body["predictions"]} == {"BUY", "SELL", "HOLD"}


GOOD_ROW = dict.fromkeys(FEATURES, 0.1)
BAD_BODIES = [
    (
        "wrong feature name",
        {"rows": [{**dict.fromkeys(FEATURES[:-1], 0.1), "zscore_99": 0.1}]},
        422,
    ),
    ("missing field", {"rows": [dict.fromkeys(FEATURES[:-1], 0.1)]}, 422),
    ("extra field", {"rows": [{**GOOD_ROW, "extra": 1.0}]}, 422),
    ("string value", {"rows": [{**GOOD_ROW, "ret_1m": "0.1"}]}, 422),
    ("boolean value", {"rows": [{**GOOD_ROW, "ret_1m": True}]}, 422),
    ("null value", {"rows": [{**GOOD_ROW, "ret_1m": None}]}, 422),
    ("empty batch", {"rows": []}, 422),
    ("no rows key", {"data": [GOOD_ROW]}, 422),
    ("rows not a list", {"rows": GOOD_ROW}, 422),
    ("float32 overflow", {"rows": [{**GOOD_ROW, "vol_1m": 1e300}]}, 422),
    ("oversize batch", {"rows": [GOOD_ROW] * 11}, 413),
]


@pytest.mark.parametrize(("case", "payload", "status"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
async def test_bad_input_is_a_4xx_with_a_reason(case: str, payload: object, status: int) -> None:
    settings = make_settings(max_batch_rows=10)
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        response = await running.client.post("/v1/predict", json=payload)
        # a client's error, never a model fault (issue 12, item 2)
        errors = running.metric("levibot_client_errors_total", model="demo", version="v1",
                                track="stable", reason=response.json()["error"])  # fmt: skip
    assert response.status_code == status, case
    assert response.json()["reason"]
    assert errors == 1.0


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
async def test_json_nan_and_infinity_literals_are_rejected(literal: str) -> None:
    settings = make_settings()
    raw = json.dumps({"rows": [GOOD_ROW]}).replace("0.1", literal, 1)
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        response = await running.client.post(
            "/v1/predict", content=raw, headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    assert "ret_1m" in response.json()["reason"] or "json" in response.json()["reason"].lower()


@pytest.mark.parametrize("raw", [b"", b"{", b"not json", b"[]", b'"rows"'])
async def test_malformed_json_is_a_422(raw: bytes) -> None:
    settings = make_settings()
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        response = await running.client.post("/v1/predict", content=raw)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


async def test_oversize_body_is_refused_before_parsing() -> None:
    settings = make_settings(max_body_bytes=1000)
    big = json.dumps({"rows": [GOOD_ROW] * 20}).encode()

    async def chunks() -> object:  # no Content-Length: the streamed size is what is capped
        for start in range(0, len(big), 100):
            yield big[start : start + 100]

    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        declared = await running.client.post("/v1/predict", content=big)
        streamed = await running.client.post("/v1/predict", content=chunks())
        small = await running.client.post("/v1/predict", json={"rows": [GOOD_ROW]})
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert "exceeds" in streamed.json()["reason"]
    assert small.status_code == 200


async def test_kill_switch_file_turns_every_answer_into_hold(tmp_path: Path) -> None:
    switch = tmp_path / "kill-switch"
    settings = make_settings(kill_switch_path=switch, symbols=["BTCUSDT"])
    rows = make_rows(3, seed=1)
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        before = (await running.client.post("/v1/predict", json=body_for(rows))).json()
        switch.write_text("true\n")
        await asyncio.sleep(0.3)
        during = (await running.client.post("/v1/predict", json=body_for(rows))).json()
        symbol = (await running.client.post("/v1/predict/BTCUSDT")).json()
        state = running.metric("levibot_kill_switch", model="demo", version="v1", track="stable")
        count = running.metric("levibot_fallback_events_total", model="demo", version="v1",
                               track="stable", reason="kill_switch")  # fmt: skip
        switch.write_text("false\n")
        await asyncio.sleep(0.3)
        after = (await running.client.post("/v1/predict", json=body_for(rows))).json()
    assert before["fallback"] is False
    assert during["fallback"] is True
    assert during["reason"] == "kill_switch"
    assert {p["signal"] for p in during["predictions"]} == {"HOLD"}
    assert (symbol["signal"], symbol["reason"]) == ("HOLD", "kill_switch")
    assert state == 1.0
    assert count == 4.0
    assert after["fallback"] is False


async def test_initial_kill_switch_from_settings() -> None:
    settings = make_settings(kill_switch=True)
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        body = (await running.client.post("/v1/predict", json={"rows": [GOOD_ROW]})).json()
    assert body["predictions"][0]["signal"] == "HOLD"
    assert body["reason"] == "kill_switch"


async def test_symbols_without_a_database() -> None:
    settings = make_settings(symbols=["BTCUSDT"], fallback="hold")
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        unknown = await running.client.post("/v1/predict/DOGEUSDT")
        served = await running.client.post("/v1/predict/BTCUSDT")
    assert unknown.status_code == 404
    assert "DOGEUSDT" in unknown.json()["reason"]
    assert served.status_code == 200
    assert served.json()["fallback"] is True
    assert served.json()["reason"] == "db_unavailable"


async def test_health_ready_version_and_metrics() -> None:
    settings = make_settings(track="canary")
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        health = await running.client.get("/healthz")
        ready = await running.client.get("/readyz")
        version = (await running.client.get("/version")).json()
        await running.client.post("/v1/predict", json={"rows": [GOOD_ROW]})
        metrics = (await running.client.get("/metrics")).text
    assert health.status_code == 200
    assert ready.status_code == 200
    assert version["features"] == list(FEATURES)
    assert version["track"] == "canary"
    assert (
        'levibot_predict_requests_total{endpoint="predict",model="demo",status="200",'
        'track="canary",version="v1"} 1.0' in metrics
    )
    assert "levibot_model_latency_seconds_bucket" in metrics
    assert 'levibot_active_model_info{model="demo",track="canary",version="v1"} 1.0' in metrics


async def test_openapi_documents_the_feature_rows() -> None:
    settings = make_settings()
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        spec = (await running.client.get("/openapi.json")).json()
    schema = spec["paths"]["/v1/predict"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    assert schema["properties"]["rows"]["items"]["required"] == list(FEATURES)
    assert "/v1/predict/{symbol}" in spec["paths"]
    assert "/v1/feedback" in spec["paths"]
