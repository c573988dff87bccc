"""Error accounting (issue 12, item 2): a client cannot move the server-fault series.

``levibot_model_errors_total`` (the canary's errorRate and the critical alert) counts model and
server faults only; every 4xx goes to ``levibot_client_errors_total{reason}``; a client that
goes away mid-request is client reason ``disconnected``, neither a 500 nor a model error.
"""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from levibot_predictor.http.app import create_app
from tests.predictor.support.models import make_loaded, make_model, make_settings, running_app

MODEL = make_model()
GOOD_ROW = dict.fromkeys(MODEL.features, 0.1)
WHO = {"model": "demo", "version": "v1", "track": "stable"}

CLIENT_ERRORS = [
    ("unknown symbol", "/v1/predict/NOPE", None, 404, "not_found"),
    ("invalid body", "/v1/predict", {"rows": [{"ret_1m": 1.0}]}, 422, "invalid_request"),
    ("empty batch", "/v1/predict", {"rows": []}, 422, "invalid_request"),
    ("oversize batch", "/v1/predict", {"rows": [GOOD_ROW] * 11}, 413, "too_large"),
    ("bad feedback", "/v1/feedback", {"outcomes": [{"prediction_id": 1, "outcome": 2}]}, 422,
     "invalid_request"),
    ("unknown path", "/v2/nothing", {}, 404, "not_found"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "path", "payload", "status", "reason"),
    CLIENT_ERRORS,
    ids=[c[0] for c in CLIENT_ERRORS],
)
async def test_client_errors_are_not_model_errors(
    case: str, path: str, payload: Any, status: int, reason: str
) -> None:
    settings = make_settings(max_batch_rows=10, symbols=["BTCUSDT"])
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        for _ in range(5):
            response = await running.client.post(path, json=payload)
        client = running.metric("levibot_client_errors_total", **WHO, reason=reason)
        faults = [s for m in running.registry.collect() if m.name == "levibot_model_errors"
                  for s in m.samples if s.name.endswith("_total")]  # fmt: skip
    assert response.status_code == status, case
    assert response.json()["error"] == reason
    assert client == 5.0
    assert faults == []


async def test_a_server_fault_is_a_model_error_and_not_a_client_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings()
    async with running_app(settings, make_loaded(MODEL, settings)) as running:

        def explode(*_: object) -> None:
            raise RuntimeError("boom")

        monkeypatch.setattr(running.app.state.service, "predict_rows", explode)
        response = await running.client.post("/v1/predict", json={"rows": [GOOD_ROW]})
        fault = running.metric("levibot_model_errors_total", **WHO, error_type="internal_error")
        client = running.metric("levibot_client_errors_total", **WHO, reason="internal_error")
    assert response.status_code == 500
    assert (fault, client) == (1.0, None)


async def call_disconnecting(app: Any, path: str) -> list[dict[str, Any]]:
    """One request whose client sends half a body, then goes away; what the app sent."""
    messages = iter([
        {"type": "http.request", "body": b'{"rows": [', "more_body": True},
        {"type": "http.disconnect"},
    ])  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [(b"content-type", b"application/json")],
             "http_version": "1.1", "scheme": "http", "server": ("predictor", 80),
             "client": ("test", 1), "root_path": ""}  # fmt: skip
    await app(scope, receive, send)
    return sent


@pytest.mark.parametrize("path", ["/v1/predict", "/v1/feedback"])
async def test_an_aborted_connection_is_a_client_disconnect_not_a_500(path: str) -> None:
    settings = make_settings()
    loaded = make_loaded(MODEL, settings)
    loaded.runtime.warm_up()
    registry = CollectorRegistry()
    app = create_app(settings, registry, loaded)
    sent = await call_disconnecting(app, path)
    endpoint = "predict" if path == "/v1/predict" else "feedback"
    statuses = [s.labels["status"] for m in registry.collect()
                if m.name == "levibot_predict_requests"
                for s in m.samples if s.name.endswith("_total")]  # fmt: skip
    assert sent == []
    assert (
        registry.get_sample_value("levibot_client_errors_total", {**WHO, "reason": "disconnected"})
        == 1.0
    )
    assert "500" not in statuses
    assert (
        registry.get_sample_value(
            "levibot_predict_requests_total", {**WHO, "endpoint": endpoint, "status": "500"}
        )
        is None
    )
