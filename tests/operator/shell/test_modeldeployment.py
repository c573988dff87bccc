"""The reconcile shell against a recording fake API: the exact writes, in order, per tick."""

from __future__ import annotations

from typing import Any

import pytest

from levibot_operator.adapters import registry
from levibot_operator.core.modeldeployment.observation import REGISTRY_FOUND, RegistryObservation
from levibot_operator.errors import InvalidSpecError
from levibot_operator.settings import OperatorSettings
from levibot_operator.shell.modeldeployment import Reconciler
from tests.support.operator_fakeapi import FakeApi
from tests.support.operator_fakes import NOW, md_body

MD_PATH = "/apis/levibot.io/v1alpha1/namespaces/prod/modeldeployments/btc-direction"
JOB_PATH = "/apis/batch/v1/namespaces/prod/jobs/btc-direction-train-v1-1"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    async def highest(*_: Any) -> int:
        return 0

    async def registered(*_: Any) -> RegistryObservation:
        return RegistryObservation(REGISTRY_FOUND, "candidate", "2026-11-21T12:00:00Z", {})

    async def set_status(*_: Any, **__: Any) -> None:
        return None

    monkeypatch.setattr(registry, "fetch_highest_version", highest)
    monkeypatch.setattr(registry, "fetch_registered", registered)
    monkeypatch.setattr(registry, "patch_version_status", set_status)
    fake = FakeApi()
    fake.put(MD_PATH, md_body())
    return fake


def reconciler(api: FakeApi) -> Reconciler:
    return Reconciler(api=api, settings=OperatorSettings(), clock=lambda: NOW)  # type: ignore[arg-type]


def writes_without_events(api: FakeApi) -> list[tuple[str, str]]:
    return [w for w in api.writes if not w[1].endswith("/events")]


async def test_first_tick_writes_status_first_then_the_job(api: FakeApi) -> None:
    await reconciler(api).reconcile_named("prod", "btc-direction")
    assert writes_without_events(api) == [
        ("PATCH", MD_PATH + "/status"),
        ("POST", "/apis/batch/v1/namespaces/prod/jobs"),
        ("PATCH", "/api/v1/namespaces/prod/configmaps/btc-direction-killswitch"),
        ("PATCH", "/api/v1/namespaces/prod/services/btc-direction"),
    ]
    assert api.store[MD_PATH]["status"]["training"]["version"] == "v1"


async def test_second_tick_is_idempotent_no_new_job_no_status_write(api: FakeApi) -> None:
    rec = reconciler(api)
    await rec.reconcile_named("prod", "btc-direction")
    api.writes.clear()
    await rec.reconcile_named("prod", "btc-direction")
    assert writes_without_events(api) == [
        ("PATCH", "/api/v1/namespaces/prod/configmaps/btc-direction-killswitch"),
        ("PATCH", "/api/v1/namespaces/prod/services/btc-direction"),
    ]


async def test_completed_job_leads_to_the_predictor_deployment(api: FakeApi) -> None:
    rec = reconciler(api)
    await rec.reconcile_named("prod", "btc-direction")
    api.store[JOB_PATH]["status"] = {"conditions": [{"type": "Complete", "status": "True"}]}
    api.writes.clear()
    await rec.reconcile_named("prod", "btc-direction")
    assert ("PATCH", "/apis/apps/v1/namespaces/prod/deployments/btc-direction-v1") in api.writes
    assert api.store[MD_PATH]["status"]["stableVersion"] == "v1"
    assert api.writes[0] == ("PATCH", MD_PATH + "/status")


async def test_invalid_spec_writes_only_status_and_an_event(api: FakeApi) -> None:
    body = md_body()
    body["spec"]["training"]["schedule"] = "61 * * * *"
    api.put(MD_PATH, body)
    with pytest.raises(InvalidSpecError, match=r"spec\.training\.schedule"):
        await reconciler(api).reconcile_named("prod", "btc-direction")
    assert api.writes == [
        ("PATCH", MD_PATH + "/status"),
        ("POST", "/api/v1/namespaces/prod/events"),
    ]
    assert "spec.training.schedule" in api.store[MD_PATH]["status"]["conditions"][0]["message"]
