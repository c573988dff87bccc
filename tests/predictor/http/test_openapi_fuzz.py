"""Schemathesis over the predictor's OpenAPI: whatever it sends, never a 5xx.

The one 5xx allowed is /v1/feedback's 503 "no database configured" (this app has no DSN):
a missing dependency, not a reaction to the input.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from prometheus_client import CollectorRegistry
from schemathesis.checks import not_a_server_error

from levibot_predictor.http.app import create_app
from tests.predictor.support.models import make_loaded, make_model, make_settings

SETTINGS = make_settings(symbols=["BTCUSDT"], max_batch_rows=50)
LOADED = make_loaded(make_model(), SETTINGS)
LOADED.runtime.warm_up()  # the test client does not run the lifespan
APP = create_app(SETTINGS, CollectorRegistry(), LOADED)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:
    response = case.call()
    if case.path == "/v1/feedback" and response.status_code == 503:
        assert response.json()["reason"] == "no database configured"
        return
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, response.text
