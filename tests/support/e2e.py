"""Helpers for the end-to-end tests on the local stack (hack/localstack.py)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import yaml

from hack.kubeapi import KubeApi
from hack.localstack import LocalStack
from hack.traffic import ServiceTraffic, TrafficStats

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(path: str, name: str | None = None) -> dict[str, Any]:
    """An example manifest, optionally renamed."""
    obj = dict(yaml.safe_load((EXAMPLES / path).read_text()))
    if name:
        obj["metadata"]["name"] = name
    return obj


def new_namespace(stack: LocalStack) -> str:
    return stack.create_tenant_namespace(f"e2e-{uuid.uuid4().hex[:8]}")


def apply(stack: LocalStack, ns: str, obj: dict[str, Any]) -> None:
    stack.kube.kubectl("-n", ns, "apply", "-f", "-", input=json.dumps(obj))


def get(stack: LocalStack, ns: str, *what: str) -> Any:
    return json.loads(stack.kube.kubectl("-n", ns, "get", *what, "-o", "json").stdout)


def eventually(check: Callable[[], Any], timeout: float, what: str, every: float = 1.0) -> Any:
    """Polls `check` until truthy; fails the test naming `what` and the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (KeyError, IndexError, TypeError) as err:
            last = err
        else:
            if last:
                return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")


def wait_phase(
    stack: LocalStack, ns: str, kind: str, name: str, phase: str, *, timeout: float
) -> Any:
    def reached() -> Any:
        obj = get(stack, ns, kind, name)
        return obj if obj.get("status", {}).get("phase") == phase else None

    return eventually(reached, timeout, f"{kind}/{name} phase {phase}")


def send_traffic(
    stack: LocalStack, ns: str, service: str, seconds: float, rate: float = 20
) -> TrafficStats:
    async def run() -> TrafficStats:
        async with KubeApi(stack.kube.kubeconfig) as api:
            traffic = ServiceTraffic(api, ns, service, list(stack.config.symbols))
            return await traffic.run(rate=rate, seconds=seconds)

    return asyncio.run(run())


def registry_rows(stack: LocalStack, model_name: str) -> list[dict[str, Any]]:
    async def fetch() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(stack.dsn)
        try:
            rows = await conn.fetch(
                "SELECT version, status, reason, metrics FROM model_registry"
                " WHERE model_name = $1 ORDER BY created_at",
                model_name,
            )
        finally:
            await conn.close()
        return [dict(r) for r in rows]

    return asyncio.run(fetch())


def prom_query(stack: LocalStack, query: str) -> list[Any]:
    url = f"{stack.prom.url}/api/v1/query?query={urllib.parse.quote(query)}"
    with urllib.request.urlopen(url, timeout=5) as resp:
        return list(json.load(resp)["data"]["result"])


def latest_tick(stack: LocalStack) -> float:
    """Epoch seconds of the newest tick in market_ticks."""

    async def fetch() -> float:
        conn = await asyncpg.connect(stack.dsn)
        try:
            return float(
                await conn.fetchval("SELECT extract(epoch FROM max(ts)) FROM market_ticks")
            )
        finally:
            await conn.close()

    return asyncio.run(fetch())
