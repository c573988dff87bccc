"""The Prometheus client against a real Prometheus scraping a real exporter (io layer)."""

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from levibot_devstack.net import free_port
from levibot_devstack.services import PrometheusServer
from levibot_operator.adapters.prometheus import (
    PrometheusClient,
    PrometheusQueryError,
    PrometheusUnreachableError,
    parse_query_response,
    parse_vector_response,
)
from levibot_operator.core.canary.analysis import (
    AnalysisTarget,
    Query,
    Verdict,
    assess_checks,
    build_analysis_queries,
)
from levibot_operator.core.canary.spec import Thresholds
from tests.operator.support.canary.exporter import PredictorMetrics, scrape_config, serve_metrics

CANDIDATE = ("btc-direction", "v2", "canary")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def eventually(probe: Callable[[], Awaitable[bool]], within: float = 30) -> None:
    """Poll until ``probe`` holds (scrapes and rate windows need a few seconds)."""
    deadline = time.monotonic() + within
    while not await probe():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.5)


def feed_candidate(m: PredictorMetrics) -> None:
    m.resolved.labels(*CANDIDATE).set(150)
    m.ece.labels(*CANDIDATE).set(0.042)
    m.ece.labels("btc-direction", "v1", "stable").set(0.040)
    for feature, psi, ks in (("ret_1m", 0.05, 0.6), ("vol_1m", 0.12, 0.2)):
        m.psi.labels(*CANDIDATE, feature).set(psi)
        m.ks.labels(*CANDIDATE, feature).set(ks)
    for _ in range(100):
        m.requests.labels(*CANDIDATE, "/v1/predict", "200").inc()
        m.latency.labels(*CANDIDATE, "/v1/predict").observe(0.02)


@pytest.mark.prometheus
async def test_analysis_queries_against_real_prometheus(
    prometheus: PrometheusServer, session: aiohttp.ClientSession
) -> None:
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    with serve_metrics() as metrics:
        feed_candidate(metrics)
        prometheus.reload(scrape_config(metrics.port, namespace))
        client = PrometheusClient(session, prometheus.url, timeout=5)
        queries = build_analysis_queries(
            AnalysisTarget(namespace, *CANDIDATE),
            AnalysisTarget(namespace, "btc-direction", "v1", "stable"),
            window="1m",
        )

        async def requests_counted() -> bool:
            for _ in range(20):  # keep traffic flowing so rate() has a slope
                metrics.requests.labels(*CANDIDATE, "/v1/predict", "200").inc()
                metrics.latency.labels(*CANDIDATE, "/v1/predict").observe(0.02)
            rate = await client.fetch_value(queries[Query.ERROR_RATE])
            return (
                rate is not None
                and await client.fetch_value(queries[Query.LATENCY_P95]) is not None
            )

        await eventually(requests_counted)
        values = await client.fetch_values(queries)

    assert values[Query.SAMPLES] == 150
    assert values[Query.ECE] == pytest.approx(0.042)
    assert values[Query.STABLE_ECE] == pytest.approx(0.040)
    assert values[Query.PSI] == pytest.approx(0.12)  # max over features
    assert values[Query.KS_PVALUE] == pytest.approx(0.2)  # min over features
    assert values[Query.ERROR_RATE] == 0.0  # no error series: zero, not "no data"
    latency = values[Query.LATENCY_P95]
    assert latency is not None
    assert 0.01 < latency <= 0.025  # within the 10-25 ms bucket
    seeds = Thresholds(100, 0.06, 0.01, 0.05, 0.2, 0.01, 0.3)
    assert {c.verdict for c in assess_checks(values, seeds)} == {Verdict.PASS}


@pytest.mark.prometheus
async def test_missing_series_is_none_and_bad_promql_is_a_query_error(
    prometheus: PrometheusServer, session: aiohttp.ClientSession
) -> None:
    client = PrometheusClient(session, prometheus.url, timeout=5)
    assert await client.fetch_value('max(levibot_model_ece{version="nope"})') is None
    assert await client.fetch_value("vector(0) / vector(0)") is None  # NaN: no usable value
    assert await client.fetch_value("scalar(vector(3))") == 3.0
    with pytest.raises(PrometheusQueryError, match="query failed"):
        await client.fetch_value("max(")


async def test_an_unreachable_prometheus_is_a_typed_error(session: aiohttp.ClientSession) -> None:
    client = PrometheusClient(session, f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(PrometheusUnreachableError, match="unreachable"):
        await client.fetch_value("vector(1)")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"status": "success", "data": {"resultType": "vector", "result": []}}, None),
        ({"status": "success", "data": {"resultType": "scalar", "result": [1, "0.5"]}}, 0.5),
        ({"status": "success", "data": {"resultType": "scalar", "result": [1, "+Inf"]}}, math.inf),
    ],
)
def test_parse_query_response(body: object, expected: float | None) -> None:
    assert parse_query_response(body, "q") == expected


@pytest.mark.parametrize(
    "body",
    [
        {"status": "error", "error": "bad"},
        {"status": "success", "data": {"resultType": "matrix", "result": []}},
        {"status": "success", "data": {"resultType": "vector", "result": [{}, {}]}},
        {"status": "success", "data": {"resultType": "scalar", "result": [1, "x"]}},
        "not json object",
    ],
)
def test_unreadable_answers_are_query_errors(body: object) -> None:
    with pytest.raises(PrometheusQueryError):
        parse_query_response(body, "q")


def test_a_vector_answer_keeps_each_series_labels_and_drops_nan() -> None:
    result = [
        {"metric": {"alertname": "LevibotFeatureDriftScore", "version": "v1"}, "value": [1, "1"]},
        {"metric": {"version": "v2"}, "value": [1, "NaN"]},
    ]
    body = {"status": "success", "data": {"resultType": "vector", "result": result}}
    assert parse_vector_response(body, "q") == [
        ({"alertname": "LevibotFeatureDriftScore", "version": "v1"}, 1.0)
    ]
    with pytest.raises(PrometheusQueryError):
        parse_vector_response({"status": "success", "data": {"resultType": "scalar"}}, "q")
