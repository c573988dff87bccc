"""The reconcile shell opens the Canary of a retrained version (issue 13, 8), against a
recording fake API: the writes per tick, one Canary whatever the number of ticks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from levibot_operator.settings import OperatorSettings
from levibot_operator.shell.modeldeployment import Reconciler
from tests.operator.support.fakeapi import FakeApi
from tests.operator.support.fakes import NOW
from tests.operator.support.shell_api import MD_PATH, build_md_api

JOBS = "/apis/batch/v1/namespaces/prod/jobs"
CANARIES = "/apis/levibot.io/v1alpha1/namespaces/prod/canaries"
DEPLOYMENTS = "/apis/apps/v1/namespaces/prod/deployments"
COMPLETE = {"conditions": [{"type": "Complete", "status": "True"}]}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    return build_md_api(monkeypatch)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def make_ready(api: FakeApi) -> None:
    """Every predictor Deployment reports all its replicas ready."""
    for key, obj in api.store.items():
        if key.startswith(DEPLOYMENTS):
            replicas = obj["spec"]["replicas"]
            obj["status"] = {"readyReplicas": replicas, "updatedReplicas": replicas}


async def test_a_scheduled_retrain_opens_one_canary_and_keeps_v1_stable(api: FakeApi) -> None:
    clock = Clock()
    rec = Reconciler(api=api, settings=OperatorSettings(), clock=clock)  # type: ignore[arg-type]
    await rec.reconcile_named("prod", "btc-direction")  # v1's Job
    api.store[f"{JOBS}/btc-direction-train-v1-1"]["status"] = COMPLETE
    await rec.reconcile_named("prod", "btc-direction")  # v1 stable
    make_ready(api)
    clock.now = NOW + timedelta(hours=14, minutes=1)  # 02:01 the next night: the schedule
    await rec.reconcile_named("prod", "btc-direction")  # v2's Job
    api.store[f"{JOBS}/btc-direction-train-v2-1"]["status"] = COMPLETE
    api.writes.clear()
    await rec.reconcile_named("prod", "btc-direction")
    posts = [w for w in api.writes if w == ("POST", CANARIES)]
    assert posts == [("POST", CANARIES)]
    canary = api.store[f"{CANARIES}/btc-direction-v2"]
    assert canary["spec"]["candidate"] == {"version": "v2"}
    assert canary["metadata"]["labels"]["levibot.io/trigger"] == "schedule"
    assert api.store[MD_PATH]["status"]["stableVersion"] == "v1"
    assert api.writes.index(("PATCH", MD_PATH + "/status")) < api.writes.index(posts[0])
    api.writes.clear()
    for _ in range(3):
        await rec.reconcile_named("prod", "btc-direction")
    assert ("POST", CANARIES) not in api.writes
    assert not any(w[1].startswith(JOBS) and w[0] == "POST" for w in api.writes)
