"""Raw junk through the predictor's one door: whatever the bytes, a 4xx with a reason, never a 5xx.

Schemathesis (test_openapi_fuzz.py) sends what the OpenAPI document describes; this layer sends
what it does not: arbitrary bytes, JSON with NaN/Infinity and huge numbers, strings where floats
belong, deep nesting, oversized batches, unicode and path-like symbols, odd content types. The
edge parses these bodies itself (FastAPI only describes the routes), so this is its fuzz layer.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from levibot_predictor.http.app import create_app
from tests.predictor.support.models import make_loaded, make_model, make_settings

MAX_ROWS = 20
SETTINGS = make_settings(symbols=["BTCUSDT"], max_batch_rows=MAX_ROWS)
MODEL = make_model()
LOADED = make_loaded(MODEL, SETTINGS)
LOADED.runtime.warm_up()  # the test client does not run the lifespan
APP = create_app(SETTINGS, CollectorRegistry(), LOADED)

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.text(max_size=8),
    st.none(),
    st.booleans(),
)
FEATURE_NAMES = st.sampled_from([*MODEL.features, "", "ret_1m ", "x" * 300, "\u00e9\u0000"])
ROWS = st.lists(st.dictionaries(FEATURE_NAMES, NUMBERS, max_size=8), max_size=MAX_ROWS + 5)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(), st.text(max_size=20)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)


def _dump(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


BODIES = st.one_of(
    st.binary(max_size=512),
    JSON_VALUES.map(_dump),
    st.fixed_dictionaries({"rows": ROWS}).map(_dump),
    st.just(_dump({"rows": [dict.fromkeys(MODEL.features, 0.1)] * (MAX_ROWS + 1)})),
    st.integers(min_value=1, max_value=20_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.fixed_dictionaries(
        {"ids": st.lists(st.integers(-(2**70), 2**70) | st.text(max_size=4), max_size=5),
         "outcomes": st.lists(NUMBERS, max_size=5)}
    ).map(_dump),
)  # fmt: skip
PATHS = st.one_of(
    st.sampled_from(["/v1/predict", "/v1/feedback", "/v1/predict/BTCUSDT"]),
    st.text(max_size=40).map(lambda symbol: "/v1/predict/" + quote(symbol, safe="")),
    st.sampled_from(["/v1/predict/..%2F..%2Fetc", "/v1/predict/%00", "/v1/predict/" + "A" * 500]),
)
CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "",
     "application/json; charset=latin-1"]
)  # fmt: skip


async def _post(path: str, body: bytes, content_type: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=APP, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://predictor") as client:
        return await client.post(path, content=body, headers={"content-type": content_type})


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(path=PATHS, body=BODIES, content_type=CONTENT_TYPES)
def test_junk_requests_get_a_4xx_with_a_reason_never_a_5xx(
    path: str, body: bytes, content_type: str
) -> None:
    response = asyncio.run(_post(path, body, content_type))
    if path == "/v1/feedback" and response.status_code == 503:
        assert response.json()["reason"] == "no database configured"  # no DSN in this app
        return
    assert response.status_code < 500, (path, body[:200], response.text[:300])
    if response.status_code >= 400:
        answer = response.json()
        assert answer.get("reason") or answer.get("detail"), response.text[:300]
    elif response.status_code == 200:
        for prediction in response.json().get("predictions", []):
            p_up = prediction["p_up"]
            assert p_up is None or (math.isfinite(p_up) and 0.0 <= p_up <= 1.0)
