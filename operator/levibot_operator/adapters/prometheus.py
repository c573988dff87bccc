"""Async client of Prometheus' HTTP API for canary analysis (instant queries).

Layer: adapters.
``fetch_value`` runs one PromQL instant query and returns one float, or None when the
result is empty or NaN (no data: the analysis calls that inconclusive); ``fetch_vector`` returns
every series of the answer with its labels (drift alerts and scores by version and feature).
Errors are typed:
``PrometheusUnreachableError`` (connection, timeout, 5xx — transient) and ``PrometheusQueryError``
(the server rejected the query, or answered something this client cannot read).
"""

import asyncio
import math
from collections.abc import Mapping
from typing import Any, TypeVar

import aiohttp

K = TypeVar("K")


class PrometheusError(Exception):
    """Base of this client's errors."""


class PrometheusUnreachableError(PrometheusError):
    """Prometheus did not answer (connection refused, timeout, 5xx)."""


class PrometheusQueryError(PrometheusError):
    """Prometheus answered, but with an error or an unreadable or ambiguous result."""


def parse_sample(value: Any, query: str) -> float | None:
    """A ``[time, "value"]`` pair → float; NaN means no usable value → None."""
    try:
        number = float(value[1])
    except (TypeError, ValueError, IndexError) as exc:
        raise PrometheusQueryError(f"unreadable sample {value!r} for {query}") from exc
    return None if math.isnan(number) else number


def parse_query_response(body: Any, query: str) -> float | None:
    """Read an ``/api/v1/query`` JSON answer: a scalar, or a vector of at most one sample."""
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else body
        raise PrometheusQueryError(f"query failed: {error} ({query})")
    data = body.get("data") or {}
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        return parse_sample(result, query)
    if kind != "vector" or not isinstance(result, list):
        raise PrometheusQueryError(f"unexpected result type {kind!r} for {query}")
    if len(result) > 1:
        raise PrometheusQueryError(f"{len(result)} series where one was expected: {query}")
    return parse_sample(result[0].get("value"), query) if result else None


def parse_vector_response(body: Any, query: str) -> list[tuple[dict[str, str], float]]:
    """Read an ``/api/v1/query`` JSON answer as a vector: (labels, value) per series, NaN
    samples left out."""
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else body
        raise PrometheusQueryError(f"query failed: {error} ({query})")
    data = body.get("data") or {}
    result = data.get("result")
    if data.get("resultType") != "vector" or not isinstance(result, list):
        raise PrometheusQueryError(f"unexpected result for {query}: a vector was expected")
    series = [(dict(r.get("metric") or {}), parse_sample(r.get("value"), query)) for r in result]
    return [(labels, value) for labels, value in series if value is not None]


class PrometheusClient:
    """Instant queries against one Prometheus; owns nothing but a session handed in."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, timeout: float) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + "/api/v1/query"
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def fetch_value(self, query: str) -> float | None:
        """Run one instant query; see the module docstring for results and errors."""
        return parse_query_response(await self._fetch_body(query), query)

    async def fetch_vector(self, query: str) -> list[tuple[dict[str, str], float]]:
        """Run one instant query whose answer is a vector: (labels, value) per series."""
        return parse_vector_response(await self._fetch_body(query), query)

    async def _fetch_body(self, query: str) -> Any:
        try:
            async with self._session.post(
                self._url, data={"query": query}, timeout=self._timeout
            ) as response:
                if response.status >= 500:
                    raise PrometheusUnreachableError(f"Prometheus answered {response.status}")
                body = await response.json(content_type=None)
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise PrometheusUnreachableError(
                f"Prometheus unreachable at {self._url}: {exc}"
            ) from exc
        except (aiohttp.ClientError, ValueError) as exc:
            raise PrometheusQueryError(f"unreadable answer from {self._url}: {exc}") from exc
        return body

    async def fetch_values(self, queries: Mapping[K, str]) -> dict[K, float | None]:
        """Run several queries concurrently; the first error is raised."""
        keys = list(queries)
        values = await asyncio.gather(*(self.fetch_value(queries[k]) for k in keys))
        return dict(zip(keys, values, strict=True))
