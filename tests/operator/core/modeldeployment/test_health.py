"""ModelDeployment conditions from outside systems (DatabaseReachable, DataFresh) and the
gatewayAPI provider's stable routing, through decide_modeldeployment (core, pure)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from levibot_operator.core.intents import ApplyObject
from levibot_operator.core.modeldeployment.health import build_freshness_query
from levibot_operator.core.modeldeployment.observation import Freshness
from levibot_operator.core.modeldeployment.planning import Plan, decide_modeldeployment
from levibot_operator.core.modeldeployment.spec import build_model_fingerprint
from levibot_operator.core.modeldeployment.status import MDStatus
from levibot_operator.settings import OperatorSettings
from tests.operator.support.fakes import md_body, ready_deployment, snapshot

SETTINGS = OperatorSettings().build_core_settings()
SERVING = MDStatus(stable_version="v1", stable_fingerprint="")
GATEWAY = {
    "provider": "gatewayAPI",
    "gatewayAPI": {"parentRefs": [{"name": "public"}], "routeName": "btc"},
}


def cond(plan: Plan, kind: str) -> tuple[str, str, str]:
    found = next(x for x in plan.status.conditions if x.type == kind)
    return found.status, found.reason, found.message


def test_unreachable_registry_is_a_false_condition_and_no_training_starts() -> None:
    plan = decide_modeldeployment(
        snapshot(registry_error="secret levibot-db: Not Found", registry_checked=True), SETTINGS
    )
    status, reason, message = cond(plan, "DatabaseReachable")
    assert (status, reason) == ("False", "RegistryUnavailable")
    assert "secret levibot-db" in message
    assert plan.status.training is None  # no version guessed without the registry
    assert plan.requeue_after == SETTINGS.retry_delay_seconds


def test_the_registry_condition_recovers_and_otherwise_stays() -> None:
    down = decide_modeldeployment(
        snapshot(registry_error="database unreachable", registry_checked=True), SETTINGS
    )
    quiet = decide_modeldeployment(snapshot(down.status), SETTINGS)
    assert cond(quiet, "DatabaseReachable")[0] == "False"  # no call this time: unchanged
    back = decide_modeldeployment(snapshot(down.status, registry_checked=True), SETTINGS)
    assert cond(back, "DatabaseReachable")[:2] == ("True", "RegistryReachable")
    assert back.status.training is not None


@pytest.mark.parametrize(
    ("freshness", "expected"),
    [
        (None, ("Unknown", "Unknown")),
        (Freshness(None, error="connection refused"), ("Unknown", "PrometheusUnreachable")),
        (Freshness(None), ("Unknown", "NoStalenessSeries")),
        (Freshness(12.0), ("True", "FeaturesFresh")),
        (Freshness(60.0), ("True", "FeaturesFresh")),
        (Freshness(61.0), ("False", "FeaturesStale")),
    ],
)
def test_data_fresh_compares_staleness_with_the_spec_limit(
    freshness: Freshness | None, expected: tuple[str, str]
) -> None:
    plan = decide_modeldeployment(snapshot(freshness=freshness), SETTINGS)
    assert cond(plan, "DataFresh")[:2] == expected


def test_freshness_query_selects_the_model() -> None:
    assert build_freshness_query("prod", "btc-direction") == (
        'max(levibot_features_staleness_seconds{namespace="prod",model="btc-direction"})'
    )


def applied(plan: Plan) -> dict[str, dict[str, object]]:
    return {
        f"{i.manifest['kind']}/{i.manifest['metadata']['name']}": i.manifest  # type: ignore[misc]
        for i in plan.intents
        if isinstance(i, ApplyObject)
    }


def serving_snapshot(**extra: object) -> Plan:
    body = md_body(traffic=GATEWAY)
    snap = snapshot(SERVING, body=body, deployments=(ready_deployment("v1"),), **extra)
    fingerprint = build_model_fingerprint(snap.md.spec)  # trained from this spec: no retraining
    snap = replace(snap, status=replace(SERVING, stable_fingerprint=fingerprint))
    return decide_modeldeployment(snap, SETTINGS)


def test_gateway_provider_routes_stable_traffic_to_a_per_version_service() -> None:
    objects = applied(serving_snapshot())
    service = objects["Service/btc-direction-v1"]
    assert service["spec"]["selector"]["levibot.io/version"] == "v1"  # type: ignore[index]
    route = objects["HTTPRoute/btc"]
    rule = route["spec"]["rules"][0]  # type: ignore[index]
    assert rule["backendRefs"] == [
        {"group": "", "kind": "Service", "name": "btc-direction-v1", "port": 80, "weight": 100}
    ]
    assert route["spec"]["parentRefs"] == [{"name": "public"}]  # type: ignore[index]
    assert route["metadata"]["ownerReferences"][0]["kind"] == "ModelDeployment"  # type: ignore[index]


def test_gateway_route_is_left_to_a_live_canary() -> None:
    objects = applied(serving_snapshot(canary_active=True))
    assert "HTTPRoute/btc" not in objects
    assert "Service/btc-direction-v1" in objects
