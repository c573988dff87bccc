"""The resync loop's one rule: an error in one object's reconcile is logged with its name,
reported in its status, retried with backoff, and never ends the loop (issue 12, item 1)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

import pytest

from levibot_operator.adapters import registry
from levibot_operator.core.modeldeployment import planning
from levibot_operator.core.modeldeployment.observation import REGISTRY_FOUND, RegistryObservation
from levibot_operator.kopf_handlers.modeldeployment import resync_forever, resync_once
from levibot_operator.settings import OperatorSettings
from levibot_operator.shell import modeldeployment as shell
from levibot_operator.shell import modeldeployment_observation as observation
from levibot_operator.shell.failures import Backoff
from tests.operator.support.fakeapi import FakeApi
from tests.operator.support.fakes import NOW, md_body

BASE = "/apis/levibot.io/v1alpha1/namespaces/prod/modeldeployments"
CURRENT: contextvars.ContextVar[str] = contextvars.ContextVar("current", default="")
# Every planner (pure decision or parser) the resync loop reaches, by module and name.
PLANNERS = [
    (shell, "parse_md_status"),
    (shell, "parse_checked_modeldeployment"),
    (shell, "decide_training_need"),
    (observation, "parse_job"),
    (shell, "parse_deployment"),
    (shell, "decide_modeldeployment"),
    (shell, "decide_invalid_spec"),
    (shell, "build_status_json"),
    (planning, "decide_training"),
    (planning, "decide_registry_marks"),
    (planning, "decide_serving"),
    (planning, "build_condition_set"),
    (planning, "build_phase"),
    (planning, "build_events"),
]


class Reconciler(shell.Reconciler):
    """The real shell, which tells the injected planners which object it reconciles."""

    async def reconcile_named(self, namespace: str, name: str) -> float | None:
        CURRENT.set(name)
        return await super().reconcile_named(namespace, name)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    async def highest(*_: Any) -> int:
        return 0

    async def registered(*_: Any) -> RegistryObservation:
        return RegistryObservation(REGISTRY_FOUND, "candidate", "2026-11-21T12:00:00Z", {})

    monkeypatch.setattr(registry, "fetch_highest_version", highest)
    monkeypatch.setattr(registry, "fetch_registered", registered)
    fake = FakeApi()
    for name in ("broken", "healthy"):
        body = md_body()
        body["metadata"]["name"] = name
        fake.put(f"{BASE}/{name}", body)
    labels = {
        "levibot.io/modeldeployment": "broken",
        "app.kubernetes.io/component": "predictor",
        "levibot.io/version": "v0",
    }
    predictor = {"metadata": {"name": "broken-v0", "labels": labels}, "spec": {"replicas": 1}}
    fake.put("/apis/apps/v1/namespaces/prod/deployments/broken-v0", predictor)
    return fake


def inject_raising(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    real = getattr(module, name)

    def raising(*args: Any, **kwargs: Any) -> Any:
        if CURRENT.get() == "broken":
            raise RuntimeError(f"{name} exploded")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, raising)


def build_reconciler(api: FakeApi, resync: float = 30.0) -> Reconciler:
    settings = OperatorSettings(resync_seconds=resync, retry_delay_seconds=0.05)
    return Reconciler(api=api, settings=settings, clock=lambda: NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize(("module", "name"), PLANNERS, ids=[n for _, n in PLANNERS])
async def test_the_resync_loop_survives_an_exception_from_every_planner(
    api: FakeApi,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    module: Any,
    name: str,
) -> None:
    if name == "decide_invalid_spec":  # reached only with an invalid spec
        api.store[f"{BASE}/broken"]["spec"]["horizonSeconds"] = 0
    inject_raising(monkeypatch, module, name)
    loop = asyncio.create_task(resync_forever(build_reconciler(api, resync=0.01), ["prod"]))
    await asyncio.sleep(0.3)
    assert not loop.done(), loop.exception() if loop.done() else None
    loop.cancel()
    assert api.store[f"{BASE}/healthy"]["status"]["training"]["version"] == "v1"
    assert "prod/broken" in caplog.text
    assert f"{name} exploded" in caplog.text


async def test_a_failing_reconcile_is_reported_in_status_and_an_event(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    inject_raising(monkeypatch, shell, "decide_modeldeployment")
    await resync_once(build_reconciler(api), ["prod"], Backoff(base=60.0))
    status = api.store[f"{BASE}/broken"]["status"]
    ready = next(x for x in status["conditions"] if x["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ReconcileError")
    assert "RuntimeError: decide_modeldeployment exploded" in ready["message"]
    events = [
        b
        for p, b in api.store.items()
        if "/events/" in p and b["involvedObject"]["name"] == "broken"
    ]
    assert [e["reason"] for e in events] == ["ReconcileError"]


async def test_a_failing_object_is_retried_with_backoff_alone(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    inject_raising(monkeypatch, shell, "decide_modeldeployment")
    backoff = Backoff(base=60.0)
    rec = build_reconciler(api)
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            await resync_once(rec, ["prod"], backoff)
    assert caplog.text.count("reconcile prod/broken failed: RuntimeError") == 1
    assert backoff.failures == {("prod", "broken"): 1}
    assert ("prod", "healthy") not in backoff.failures
