"""Benchmark: Alertmanager webhook request → rollback callback invoked, on a real loopback server.

Baseline, measured in the same run: the same aiohttp server with a handler that does nothing
(what any aiohttp endpoint costs). Run: .venv/bin/python bench/canary_webhook.py
"""

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from levibot_devstack.net import free_port
from levibot_operator.core.alerts.payload import AlertTarget
from levibot_operator.servers.webhook import ALERTS_PATH, WebhookConfig, build_webhook_app

ROUNDS = 400
TOKEN = "bench-token"  # noqa: S105 - a throwaway token for a loopback benchmark


def payload(fingerprint: str) -> dict[str, object]:
    labels = {
        "alertname": "LevibotFeatureDrift",
        "namespace": "prod",
        "modeldeployment": "btc-direction",
        "version": "v2",
    }
    firing = {
        "status": "firing",
        "labels": labels,
        "annotations": {"value": "0.41"},
        "startsAt": "2026-11-21T12:00:00Z",
        "fingerprint": fingerprint,
    }
    return {"version": "4", "status": "firing", "receiver": "levibot", "alerts": [firing]}


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def measure(url: str, arrived: list[float], fresh: Callable[[int], bytes]) -> list[float]:
    """Milliseconds from sending each request to the server-side mark."""
    samples = []
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        for i in range(ROUNDS):
            sent = time.perf_counter()
            async with session.post(url, data=fresh(i), headers=headers) as response:
                assert response.status == 200, response.status
            samples.append((arrived[-1] - sent) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    cut = statistics.quantiles(samples, n=100)
    p50, p95, top = statistics.median(samples), cut[94], max(samples)
    return f"p50 {p50:6.3f} ms  p95 {p95:6.3f} ms  max {top:6.3f} ms"


async def main() -> None:
    arrived: list[float] = []

    async def on_alert(_: AlertTarget) -> bool:
        arrived.append(time.perf_counter())
        return True

    async def noop(_: web.Request) -> web.Response:
        arrived.append(time.perf_counter())
        return web.json_response({})

    def body(i: int) -> bytes:  # a new episode each time, so dedupe never short-cuts
        return json.dumps(payload(f"{i:016x}")).encode()

    with tempfile.TemporaryDirectory() as tmp:
        token = Path(tmp) / "token"
        token.write_text(TOKEN)
        baseline = web.Application()
        baseline.router.add_post(ALERTS_PATH, noop)
        results: dict[str, list[float]] = {}
        apps: dict[str, Callable[[], Awaitable[tuple[web.AppRunner, str]]]] = {
            "baseline (no-op aiohttp handler)": lambda: serve(baseline),
            "webhook (auth+parse+dedupe+callback)": lambda: serve(
                build_webhook_app(WebhookConfig(token), on_alert)
            ),
        }
        for name, start in apps.items():
            runner, url = await start()
            results[name] = await measure(url + ALERTS_PATH, arrived, body)
            await runner.cleanup()
    print(f"request sent -> server-side mark, {ROUNDS} sequential POSTs on loopback")
    for name, samples in results.items():
        print(f"  {name:40s} {summary(samples)}")


if __name__ == "__main__":
    asyncio.run(main())
