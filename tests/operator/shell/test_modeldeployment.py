"""The reconcile shell against a recording fake API: the exact writes, in order, per tick."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes_asyncio.client.exceptions import ApiException

from levibot_operator.errors import InvalidSpecError
from levibot_operator.settings import OperatorSettings
from levibot_operator.shell.modeldeployment import Reconciler
from tests.operator.support.fakeapi import FakeApi
from tests.operator.support.fakes import NOW, md_body
from tests.operator.support.shell_api import MD_PATH, build_md_api

JOB_PATH = "/apis/batch/v1/namespaces/prod/jobs/btc-direction-train-v1-1"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    return build_md_api(monkeypatch)


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


class RefusingApi(FakeApi):
    """The fake API server, refusing every Job as the real one refuses memory ``2GB``."""

    async def call_api(self, path: str, method: str, **kwargs: Any) -> dict[str, Any]:
        if method == "POST" and path.endswith("/jobs"):
            self.writes.append((method, path))
            field = "spec.template.spec.containers[0].resources.limits[memory]"
            status = {
                "kind": "Status",
                "reason": "Invalid",
                "details": {"causes": [{"field": field, "message": "quantities must match"}]},
            }
            raise ApiException(
                http_resp=FakeResponse(422, "Unprocessable Entity", json.dumps(status))
            )
        return await super().call_api(path, method, **kwargs)


class FakeResponse:
    def __init__(self, status: int, reason: str, data: str) -> None:
        self.status, self.reason, self.data = status, reason, data

    def getheaders(self) -> dict[str, str]:
        return {}


async def test_a_refused_write_is_a_condition_and_an_event_naming_the_field(
    api: FakeApi,
) -> None:
    refusing = RefusingApi()
    refusing.put(MD_PATH, md_body())
    delay = await reconciler(refusing).reconcile_named("prod", "btc-direction")
    assert delay == OperatorSettings().retry_delay_seconds
    status = refusing.store[MD_PATH]["status"]
    assert status["training"]["version"] == "v1"  # the memory is kept
    ready = next(x for x in status["conditions"] if x["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "WriteRefused")
    assert "resources.limits[memory]: quantities must match" in ready["message"]
    assert "Job btc-direction-train-v1-1 (422)" in ready["message"]
    events = [b for p, b in refusing.store.items() if "/events/" in p]
    refused = [e for e in events if e["reason"] == "WriteRefused"]
    assert len(refused) == 1
    assert "resources.limits[memory]" in refused[0]["message"]
    # the other writes went on
    assert ("PATCH", "/api/v1/namespaces/prod/services/btc-direction") in refusing.writes
