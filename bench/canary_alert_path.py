"""Benchmark: alert received → rollback applied, through the real webhook (aiohttp on loopback),
the alert handler and the canary shell, against an in-memory API (the recording fake), so the
figure is the operator's own cost without the API server's.

Baseline, measured in the same run: the same webhook with a callback that does nothing.
The same path against a real kube-apiserver is measured by
tests/operator/test_cluster_canary.py::test_wrong_token_is_refused_and_an_alert_rolls_back_fast.
Run: .venv/bin/python bench/canary_alert_path.py
"""

import asyncio
import copy
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
from levibot_operator.core.alerts.payload import AlertTarget
from levibot_operator.servers.webhook import WebhookConfig, build_webhook_app
from levibot_operator.shell.alerts import AlertHandler
from tests.operator.support.canary.alerts import alert, payload
from tests.operator.support.canary.handlers import (
    CANARY,
    CANARY_PATH,
    NS,
    ScriptedPrometheus,
    build_world,
    make_ready,
)
from tests.operator.support.canary.handlers import CANDIDATE_PATH as CANDIDATE

ROUNDS = 200
TOKEN = "bench-token"  # noqa: S105 - a throwaway token for the local run


async def no_registry(*_: Any, **__: Any) -> None:
    return None


async def serve(callback: Callable[[AlertTarget], Awaitable[None]], token: Path) -> web.AppRunner:
    runner = web.AppRunner(build_webhook_app(WebhookConfig(token), callback))
    await runner.setup()
    return runner


async def measure(
    callback: Callable[[AlertTarget], Awaitable[None]],
    token: Path,
    reset: Callable[[], Awaitable[None]],
) -> list[float]:
    runner = await serve(callback, token)
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    times: list[float] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        for i in range(ROUNDS):
            await reset()
            body = payload(alert(fingerprint=f"fp-{i}"))
            started = time.perf_counter()
            async with session.post(
                f"http://127.0.0.1:{port}/alerts", json=body, headers=headers
            ) as response:
                assert response.status == 200, await response.text()
            times.append(time.perf_counter() - started)
    await runner.cleanup()
    return times


async def main() -> None:
    registry.patch_version_status = no_registry
    api, canaries, _ = build_world(ScriptedPrometheus())
    await canaries.reconcile_named(NS, CANARY)
    make_ready(api, CANDIDATE)
    await canaries.reconcile_named(NS, CANARY)
    progressing = copy.deepcopy(api.store[CANARY_PATH])

    async def reset() -> None:
        api.put(CANARY_PATH, progressing)

    async def noop(_: AlertTarget) -> None:
        return None

    handler = AlertHandler(canaries)
    with tempfile.TemporaryDirectory() as tmp:
        token = Path(tmp) / "token"
        token.write_text(TOKEN)
        base = await measure(noop, token, reset)
        full = await measure(handler, token, reset)
    assert api.store[CANARY_PATH]["status"]["phase"] == "RolledBack"
    print(f"{ROUNDS} alerts each, alert POST sent → answer (rollback written before answering)")
    for name, times in (("baseline: webhook, no-op callback", base), ("alert → rollback", full)):
        p50 = statistics.median(times) * 1e3
        p95 = statistics.quantiles(times, n=20)[18] * 1e3
        print(f"  {name:36s} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
