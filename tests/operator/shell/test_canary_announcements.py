"""What a written canary transition announces, against the recording fake API: Kubernetes
conditions (``kubectl wait`` reads them), ``levibot_model_switches_total`` counted once per
promotion or rollback, and a notification posted to a loopback HTTP server, which a rollback
never waits for (not even when that server is down)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from levibot_operator.adapters.notifier import Notifier, NotifierConfig
from levibot_operator.core.alerts.payload import AlertTarget
from levibot_operator.shell.alerts import AlertHandler
from levibot_operator.shell.canary import CanaryReconciler
from tests.operator.support.canary.handlers import (
    CANARY,
    CANARY_PATH,
    CANDIDATE_PATH,
    MD,
    MD_PATH,
    NS,
    RegistryRecorder,
    ScriptedPrometheus,
    build_world,
    canary_status,
    make_ready,
    writes,
)
from tests.operator.support.fakeapi import FakeApi


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeApi, CanaryReconciler, Any]:
    RegistryRecorder().install(monkeypatch)
    return build_world(ScriptedPrometheus())


def conditions(api: FakeApi) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in canary_status(api)["conditions"]}


def switches(rec: CanaryReconciler, kind: str) -> float:
    return float(rec.metrics.switches.labels(NS, MD, kind)._value.get())


def firing() -> AlertTarget:
    return AlertTarget(NS, MD, "v2", "LevibotErrorRateHigh", "f1", "t1", "0.41")


async def to_paused(api: FakeApi, rec: CanaryReconciler, clock: Any) -> None:
    """Through setWeight 25 and a passed analysis to the pause step."""
    await rec.reconcile_named(NS, CANARY)
    make_ready(api, CANDIDATE_PATH)
    await rec.reconcile_named(NS, CANARY)
    for _ in range(2):
        clock.advance(60)
        await rec.reconcile_named(NS, CANARY)
    make_ready(api, CANDIDATE_PATH)
    await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["phase"] == "Paused"


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback HTTP server that records every notice and its Authorization header."""
    got: list[dict[str, Any]] = []

    async def take(request: web.Request) -> web.Response:
        got.append({**await request.json(), "auth": request.headers.get("Authorization")})
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hook", take)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/hook", got
    await runner.cleanup()


def dead_url() -> str:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


async def test_conditions_follow_the_phase_and_keep_their_transition_time(world: tuple) -> None:
    api, rec, clock = world
    await to_paused(api, rec, clock)
    paused = conditions(api)
    assert (paused["Paused"]["status"], paused["Progressing"]["status"]) == ("True", "False")
    assert paused["Paused"]["observedGeneration"] == api.store[CANARY_PATH]["metadata"].get(
        "generation", 0
    )
    writes(api)
    clock.advance(30)
    await rec.reconcile_named(NS, CANARY)
    assert ("PATCH", CANARY_PATH + "/status") not in writes(api)  # nothing new: nothing written
    await AlertHandler(rec)(firing())
    after = conditions(api)
    assert (after["RolledBack"]["status"], after["RolledBack"]["reason"]) == ("True", "AlertFiring")
    assert after["Paused"]["status"] == "False"
    assert after["Paused"]["lastTransitionTime"] != paused["Paused"]["lastTransitionTime"]
    assert after["Promoted"]["lastTransitionTime"] == paused["Promoted"]["lastTransitionTime"]


async def test_a_rollback_is_counted_once_however_often_it_is_decided(world: tuple) -> None:
    api, rec, clock = world
    await to_paused(api, rec, clock)
    for _ in range(3):
        await AlertHandler(rec)(firing())
        await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["phase"] == "RolledBack"
    assert (switches(rec, "rollback"), switches(rec, "promotion")) == (1, 0)


async def test_a_promotion_is_counted_once_and_is_promoted(world: tuple) -> None:
    api, rec, clock = world
    await to_paused(api, rec, clock)
    api.store[CANARY_PATH]["metadata"]["annotations"] = {"levibot.io/resume": "r1"}
    await rec.reconcile_named(NS, CANARY)
    make_ready(api, CANDIDATE_PATH)
    for _ in range(3):
        await rec.reconcile_named(NS, CANARY)
    assert api.store[MD_PATH]["status"]["stableVersion"] == "v2"
    assert conditions(api)["Promoted"]["status"] == "True"
    assert (switches(rec, "promotion"), switches(rec, "rollback")) == (1, 0)


async def test_a_rollback_notice_reaches_the_webhook_with_its_token(
    world: tuple, receiver: tuple[str, list[dict[str, Any]]], tmp_path: Any
) -> None:
    api, rec, clock = world
    url, got = receiver
    (tmp_path / "token").write_text("s3cret\n")
    async with aiohttp.ClientSession() as session:
        rec.notifier = Notifier(session, NotifierConfig(url, token_file=tmp_path / "token"))
        rec.notifier.start()
        await to_paused(api, rec, clock)
        await AlertHandler(rec)(firing())
        await asyncio.wait_for(rec.notifier.queue.join(), 5)
        await rec.notifier.stop()
    last = got[-1]
    assert {k: last[k] for k in ("kind", "namespace", "name", "target", "phase", "reason")} == {
        "kind": "rolledBack", "namespace": NS, "name": CANARY, "target": MD,
        "phase": "RolledBack", "reason": "AlertFiring",
    }  # fmt: skip
    assert (last["stableVersion"], last["candidateVersion"]) == ("v1", "v2")
    assert last["auth"] == "Bearer s3cret"
    assert "LevibotErrorRateHigh" in last["message"]
    assert {n["kind"] for n in got} >= {"phase", "step"}


async def test_a_rollback_completes_promptly_while_the_webhook_is_down(world: tuple) -> None:
    api, rec, clock = world
    config = NotifierConfig(dead_url(), timeout_seconds=5, retries=5, backoff_seconds=10)
    async with aiohttp.ClientSession() as session:
        rec.notifier = Notifier(session, config)
        rec.notifier.start()
        await to_paused(api, rec, clock)
        started = time.monotonic()
        await AlertHandler(rec)(firing())
        elapsed = time.monotonic() - started
        assert canary_status(api)["phase"] == "RolledBack"
        assert api.store[CANDIDATE_PATH]["spec"]["replicas"] == 0
        assert elapsed < 1.0  # the notices still wait for their retries in the background
        await rec.notifier.stop()
