"""The canary's write planner (core, pure): who owns which object in which phase, promotion
guard, drift canaries, and the operator's metrics/health app and unconfigured webhook."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from levibot_operator.adapters.metrics import OperatorMetrics
from levibot_operator.core.alerts.dispatch import find_alerted_canaries
from levibot_operator.core.alerts.payload import AlertTarget
from levibot_operator.core.canary.decision import CanaryDecision
from levibot_operator.core.canary.planning import (
    CandidateView,
    PromoteVersion,
    is_promotable,
    plan_canary_writes,
)
from levibot_operator.core.canary.status import CanaryStatus, Phase
from levibot_operator.core.intents import ApplyObject, Scale, SetRegistryStatus, TrafficIntent
from levibot_operator.core.modeldeployment.observation import DeploymentObservation
from levibot_operator.core.modeldeployment.spec import parse_modeldeployment
from levibot_operator.core.modeldeployment.status import MDStatus
from levibot_operator.servers.metrics import build_metrics_app
from levibot_operator.servers.webhook import WebhookConfig, build_unconfigured_app
from levibot_operator.settings import OperatorSettings
from tests.operator.support.canary.builders import make_spec
from tests.operator.support.fakes import md_body

MD = parse_modeldeployment(md_body())
SPEC = make_spec()
SETTINGS = OperatorSettings().build_core_settings()
LIVE = CanaryStatus(Phase.PROGRESSING, stable_version="v1", candidate_version="v2")
SCALED = DeploymentObservation("btc-direction-v2", "v2", "canary", 1, 1)
AT_25 = TrafficIntent(25, Scale.WEIGHTED, Scale.FULL)
READY = CandidateView(SCALED, True)


def plan(
    new: CanaryStatus,
    old: CanaryStatus = LIVE,
    traffic: TrafficIntent = AT_25,
    seen: CandidateView = READY,
    **decision: Any,
) -> list[object]:
    made = CanaryDecision(status=new, traffic=traffic, **decision)
    return list(plan_canary_writes(MD, "c", made, spec=SPEC, old=old, seen=seen, settings=SETTINGS))


def replicas(intents: list[object]) -> list[int]:
    return [
        i.manifest["spec"]["replicas"]  # type: ignore[index]
        for i in intents
        if isinstance(i, ApplyObject) and i.manifest["kind"] == "Deployment"
    ]


def test_a_live_canary_scales_only_the_candidate() -> None:
    assert replicas(plan(LIVE)) == [1]


def test_after_promotion_the_target_owns_the_deployment() -> None:
    done = replace(LIVE, phase=Phase.SUCCEEDED)
    intents = plan(done, promoted_version="v2")
    assert replicas(intents) == []
    assert intents[-1] == PromoteVersion("v2", "v1")


def test_a_settled_rollback_writes_nothing_more_but_repeats_registry() -> None:
    back = replace(LIVE, phase=Phase.ROLLED_BACK, message="analysis failed: ece=0.09")
    quiet = TrafficIntent(0, Scale.ZERO, Scale.FULL)
    at_zero = CandidateView(replace(SCALED, replicas=0, ready_replicas=0), False)
    intents = plan(back, old=back, traffic=quiet, seen=at_zero, registry=())
    assert replicas(intents) == []
    crash_left_it_scaled = plan(back, old=back, traffic=quiet)
    assert replicas(crash_left_it_scaled) == [0]


def test_no_deployment_is_created_just_to_be_at_zero() -> None:
    failed = replace(LIVE, phase=Phase.FAILED)
    quiet = TrafficIntent(0, Scale.ZERO, Scale.FULL)
    assert plan(failed, traffic=quiet, seen=CandidateView(None, False)) == []


def test_registry_intents_pass_through() -> None:
    back = replace(LIVE, phase=Phase.ROLLED_BACK)
    intent = SetRegistryStatus("v2", "rejected", "alert LevibotFeatureDrift firing for v2")
    found = [i for i in plan(back, registry=(intent,)) if isinstance(i, SetRegistryStatus)]
    assert found == [SetRegistryStatus("v2", "rejected", "alert LevibotFeatureDrift firing for v2")]


@pytest.mark.parametrize(
    ("stable", "expected"), [("v1", True), ("v2", False), ("v3", False), ("", False)]
)
def test_promotion_only_over_the_version_the_canary_started_from(
    stable: str, expected: bool
) -> None:
    assert is_promotable(MDStatus(stable_version=stable), PromoteVersion("v2", "v1")) is expected


ALERT = AlertTarget("prod", "btc-direction", "v2", "LevibotEceCritical", "f", "t", "0.09")


def canary(name: str, phase: str | None, candidate: str, target: str = "btc-direction") -> Any:
    status = {"phase": phase, "candidateVersion": candidate} if phase else {}
    return {
        "metadata": {"name": name},
        "spec": {"target": target, "candidate": {"version": candidate}},
        "status": status,
    }


def test_alerts_find_only_live_canaries_of_that_target_and_version() -> None:
    bodies = [
        canary("a", "Progressing", "v2"),
        canary("b", "RolledBack", "v2"),
        canary("c", "Paused", "v3"),
        canary("d", None, "v2"),
        canary("e", "Progressing", "v2", target="other"),
    ]
    assert find_alerted_canaries(bodies, ALERT) == ["a", "d"]


async def test_metrics_app_serves_canary_series_and_health() -> None:
    metrics = OperatorMetrics(CollectorRegistry())
    metrics.observe_canary("prod", "c", "btc-direction", replace(LIVE, desired_weight=25))
    metrics.alerts.inc()
    async with TestClient(TestServer(build_metrics_app(metrics))) as client:
        text = await (await client.get("/metrics")).text()
        health = await client.get("/healthz")
    assert 'levibot_canary_weight{canary="c",modeldeployment="btc-direction"' in text
    assert 'namespace="prod",type="desired"} 25.0' in text
    assert 'phase="Progressing"} 1.0' in text
    assert 'phase="Paused"} 0.0' in text
    assert "levibot_alerts_received_total 1.0" in text
    assert health.status == 200


async def test_without_a_token_every_alert_is_refused(tmp_path: Path) -> None:
    app = build_unconfigured_app(WebhookConfig(tmp_path / "missing"))
    async with TestClient(TestServer(app)) as client:
        refused = await client.post("/alerts", json={"version": "4", "alerts": []})
        health = await client.get("/healthz")
    assert (refused.status, health.status) == (503, 200)
