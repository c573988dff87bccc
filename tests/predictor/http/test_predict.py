"""The prediction routes' one door: answers, errors, metrics; FastAPI answers what it passes on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import numpy as np
import pytest

from levibot_predictor.core.window import RowWindow
from levibot_predictor.http.predict import build_identity, render_rows, render_symbol
from levibot_predictor.service import RowsResult, SymbolResult
from tests.predictor.support.models import make_loaded, make_model, make_settings, running_app

MODEL = make_model()
GOOD_ROW = dict.fromkeys(MODEL.features, 0.1)
BASE = ('de"mo', "v1", "canary")


def test_rendered_rows_are_the_json_of_the_result() -> None:
    result = RowsResult([1, 2], [0.25, 1e-07], ["SELL", "SELL"], None)
    body = json.loads(render_rows(result, build_identity(BASE)))
    assert body == {
        "model": 'de"mo', "version": "v1", "track": "canary", "fallback": False, "reason": None,
        "predictions": [{"prediction_id": 1, "p_up": 0.25, "signal": "SELL"},
                        {"prediction_id": 2, "p_up": 1e-07, "signal": "SELL"}],
    }  # fmt: skip


def test_rendered_fallback_rows_have_null_probabilities() -> None:
    result = RowsResult([7], [None], ["HOLD"], "kill_switch")
    body = json.loads(render_rows(result, build_identity(BASE)))
    assert body["predictions"] == [{"prediction_id": 7, "p_up": None, "signal": "HOLD"}]
    assert (body["fallback"], body["reason"]) == (True, "kill_switch")


@pytest.mark.parametrize(
    ("p_up", "reason", "staleness"), [(0.75, None, 1.5), (None, "stale_data", None)]
)
def test_rendered_symbol_is_the_json_of_the_result(
    p_up: float | None, reason: str | None, staleness: float | None
) -> None:
    signal = "BUY" if p_up else "HOLD"
    result = SymbolResult(9, "BTC/USDT", p_up, signal, reason, staleness)  # type: ignore[arg-type]
    body = json.loads(render_symbol(result, build_identity(BASE)))
    assert body == {
        "model": 'de"mo', "version": "v1", "track": "canary", "prediction_id": 9,
        "symbol": "BTC/USDT", "p_up": p_up, "signal": signal, "fallback": reason is not None,
        "reason": reason, "staleness_seconds": staleness,
    }  # fmt: skip


@pytest.mark.parametrize("chunks", [[5], [3, 4], [2, 2, 2, 2], [12], [9, 1, 9]])
def test_row_window_keeps_the_newest_rows_in_order(chunks: list[int]) -> None:
    window = RowWindow(capacity=6, width=2)
    rows = np.arange(2 * sum(chunks), dtype=np.float32).reshape(-1, 2)
    start = 0
    for size in chunks:
        window.add(rows[start : start + size], now=float(start))
        start += size
    np.testing.assert_array_equal(window.snapshot(), rows[-6:])
    assert window.count == min(6, len(rows))


async def test_symbol_routes_the_fast_path_passes_on_answer_as_fastapi_does() -> None:
    settings = make_settings(symbols=["BTCUSDT"])
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        client = running.client
        too_long = await client.post("/v1/predict/" + "X" * 65)
        nested = await client.post("/v1/predict/BTC/USDT")
        wrong_method = await client.get("/v1/predict")
        served = await client.post("/v1/predict/BTCUSDT")
    assert too_long.status_code == 422
    assert "symbol" in too_long.json()["reason"]
    assert nested.status_code == 404
    assert wrong_method.status_code == 405
    assert served.status_code == 200
    assert served.json()["symbol"] == "BTCUSDT"


async def test_a_streamed_body_is_served() -> None:
    settings = make_settings()
    body = json.dumps({"rows": [GOOD_ROW]}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 10):
            yield body[start : start + 10]

    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        response = await running.client.post("/v1/predict", content=chunks())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert len(response.json()["predictions"]) == 1


async def test_errors_are_counted_by_status_and_type() -> None:
    settings = make_settings()
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        bad = await running.client.post("/v1/predict", json={"rows": [{"ret_1m": 1.0}]})
        requests = running.metric("levibot_predict_requests_total", model="demo", version="v1",
                                  track="stable", endpoint="predict", status="422")  # fmt: skip
        latency = running.metric("levibot_model_latency_seconds_count", model="demo",
                                 version="v1", track="stable", endpoint="predict")  # fmt: skip
    assert bad.status_code == 422
    assert "rows.0.ret_5m" in bad.json()["reason"]
    assert requests == 1.0
    assert latency == 1.0


async def test_an_unexpected_failure_is_a_counted_json_500(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings()
    async with running_app(settings, make_loaded(MODEL, settings)) as running:

        def explode(*_: object) -> None:
            raise RuntimeError("boom")

        monkeypatch.setattr(running.app.state.service, "predict_rows", explode)
        response = await running.client.post("/v1/predict", json={"rows": [GOOD_ROW]})
        errors = running.metric("levibot_model_errors_total", model="demo", version="v1",
                                track="stable", error_type="internal_error")  # fmt: skip
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert errors == 1.0
