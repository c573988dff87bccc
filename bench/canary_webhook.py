"""Benchmark: Alertmanager webhook request → rollback callback invoked, on a real loopback server.

Baseline, measured in the same run: the same aiohttp server with a handler that does nothing
(what any aiohttp endpoint costs). Run: .venv/bin/python bench/canary_webhook.py

Then one payload of 1,000 alerts through the real webhook, alert handler and canary shell,
against the in-memory API (the recording fake) behind a model of the API server: each request
takes ``--service-ms`` of server time, at most ``--server-cores`` at once. Baseline, in the
same run: the old path, one handler call per alert in payload order (what the webhook did
before it grouped alerts into actions and ran ModelDeployments concurrently). Two payloads:
all alerts for one canary (Alertmanager groups by target), and 100 ModelDeployments x 10 alert
names (the worst case for reads: 1,000 distinct actions).
"""

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from levibot_devstack.net import free_port
from levibot_operator.adapters import registry
from levibot_operator.core.alerts.payload import AlertTarget, parse_alert_payload
from levibot_operator.servers.webhook import ALERTS_PATH, WebhookConfig, build_webhook_app
from levibot_operator.shell.alerts import AlertHandler
from tests.operator.support.canary.alerts import alert
from tests.operator.support.canary.alerts import payload as build_payload
from tests.operator.support.canary.handlers import (
    CANARY,
    CANDIDATE_PATH,
    NS,
    ScriptedPrometheus,
    build_world,
    make_ready,
)
from tests.operator.support.fakeapi import FakeApi

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


class ModelledServer:
    """Wraps the fake API's call_api: ``service`` seconds per request, ``cores`` at a time."""

    def __init__(self, api: FakeApi, service: float, cores: int) -> None:
        self.answer, self.service, self.requests = api.call_api, service, 0
        self.slots = asyncio.Semaphore(cores)
        api.call_api = self.call_api  # type: ignore[method-assign]

    async def call_api(self, path: str, method: str, **kwargs: Any) -> dict[str, Any]:
        async with self.slots:
            self.requests += 1
            await asyncio.sleep(self.service)
            return await self.answer(path, method, **kwargs)


def one_canary_alerts() -> list[dict[str, Any]]:
    return [alert(fingerprint=f"{i:016x}", instance=f"pod-{i}") for i in range(1000)]


def many_target_alerts() -> list[dict[str, Any]]:
    return [
        alert(
            alertname=f"LevibotLatencyP95High{j}", modeldeployment=f"md-{i}", fingerprint=f"{i}-{j}"
        )
        for i in range(100)
        for j in range(10)
    ]


async def build_handler(service: float, cores: int) -> tuple[AlertHandler, ModelledServer]:
    api, canaries, _ = build_world(ScriptedPrometheus())
    await canaries.reconcile_named(NS, CANARY)  # Pending → weighted candidate
    make_ready(api, CANDIDATE_PATH)
    await canaries.reconcile_named(NS, CANARY)  # → analysis, live: an alert rolls it back
    return AlertHandler(canaries), ModelledServer(api, service, cores)


async def run_old_path(body: dict[str, Any], service: float, cores: int) -> tuple[float, int]:
    handler, server = await build_handler(service, cores)
    started = time.perf_counter()
    for target in parse_alert_payload(body).firing:
        await handler(target)
    return time.perf_counter() - started, server.requests


async def run_webhook(body: dict[str, Any], service: float, cores: int) -> tuple[float, int]:
    handler, server = await build_handler(service, cores)
    with tempfile.TemporaryDirectory() as tmp:
        token = Path(tmp) / "token"
        token.write_text(TOKEN)
        app = build_webhook_app(WebhookConfig(token, max_body_bytes=8 << 20), handler)
        runner, url = await serve(app)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession() as session:
            started = time.perf_counter()
            async with session.post(url + ALERTS_PATH, json=body, headers=headers) as response:
                assert response.status == 200, await response.text()
            elapsed = time.perf_counter() - started
        await runner.cleanup()
    return elapsed, server.requests


async def main_many(service_ms: float, cores: int) -> None:
    service = service_ms / 1000
    print(
        f"\n1,000 alerts in one payload; API server modelled as {service_ms} ms/request, "
        f"{cores} at once"
    )
    for name, alerts in (
        ("one canary", one_canary_alerts()),
        ("100 MDs x 10", many_target_alerts()),
    ):
        body = build_payload(*alerts)
        old, old_requests = await run_old_path(body, service, cores)
        new, new_requests = await run_webhook(body, service, cores)
        print(
            f"  {name:14s} old path (per alert, in order) {old:7.3f} s {old_requests:5d} requests"
            f" | webhook now {new:6.3f} s {new_requests:4d} requests"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service-ms", type=float, default=5.0)
    parser.add_argument("--server-cores", type=int, default=2)
    args = parser.parse_args()

    async def no_registry(*_: Any, **__: Any) -> None:
        return None

    registry.patch_version_status = no_registry  # type: ignore[assignment]
    asyncio.run(main())
    asyncio.run(main_many(args.service_ms, args.server_cores))
