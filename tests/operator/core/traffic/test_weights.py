"""Weight ↔ replica arithmetic and the Gateway API route builder (core, pure)."""

import pytest

from levibot_operator.core.intents import Scale, TrafficIntent
from levibot_operator.core.traffic.routes import ParentRef, RouteTarget, build_http_route
from levibot_operator.core.traffic.weights import (
    RouteWeights,
    plan_candidate_replicas,
    plan_replicas,
    plan_route_weights,
)


@pytest.mark.parametrize(
    ("weight", "stable", "cap", "candidate"),
    [
        (0, 3, 3, 0),
        (10, 3, 3, 1),  # floor gives 0: at least one pod
        (25, 3, 3, 1),  # exactly 25 %
        (50, 3, 3, 3),
        (50, 4, 10, 4),
        (20, 8, 8, 2),  # 2 / 10 = 20 %
        (30, 8, 8, 3),  # 3 / 11 = 27.3 % (4 / 12 = 33 % would exceed)
        (75, 3, 3, 3),  # capped: 9 needed
        (75, 3, 9, 9),
        (100, 3, 3, 3),
        (10, 0, 3, 3),  # no stable pods: the candidate carries everything
        (10, 3, 0, 0),
    ],
)
def test_candidate_replicas(weight: int, stable: int, cap: int, candidate: int) -> None:
    assert plan_candidate_replicas(weight, stable, cap) == candidate


@pytest.mark.parametrize("weight", [-1, 101])
def test_weights_outside_0_to_100_are_rejected(weight: int) -> None:
    with pytest.raises(ValueError, match="weight"):
        plan_candidate_replicas(weight, 3, 3)


@pytest.mark.parametrize(
    ("intent", "plan"),
    [
        (TrafficIntent(0, Scale.ZERO, Scale.FULL), (0, 4, 0.0)),
        (TrafficIntent(20, Scale.WEIGHTED, Scale.FULL), (1, 4, 20.0)),
        (TrafficIntent(50, Scale.WEIGHTED, Scale.FULL), (4, 4, 50.0)),
        (TrafficIntent(100, Scale.FULL, Scale.FULL), (4, 4, 50.0)),  # promoting: stable full
        (TrafficIntent(100, Scale.FULL, Scale.ZERO), (4, 0, 100.0)),  # promoted
    ],
)
def test_replica_plans(intent: TrafficIntent, plan: tuple[int, int, float]) -> None:
    result = plan_replicas(intent, 4)
    assert (result.candidate, result.stable, result.achieved_weight) == plan


@pytest.mark.parametrize(
    ("intent", "available", "shadow", "weights"),
    [
        (TrafficIntent(25, Scale.WEIGHTED, Scale.FULL), True, 0, RouteWeights(75, 25, 0)),
        (TrafficIntent(25, Scale.WEIGHTED, Scale.FULL), False, 50, RouteWeights(100, 0, 0)),
        (TrafficIntent(0, Scale.WEIGHTED, Scale.FULL), True, 50, RouteWeights(100, 0, 50)),
        (TrafficIntent(10, Scale.WEIGHTED, Scale.FULL), True, 20, RouteWeights(90, 10, 20)),
        (TrafficIntent(100, Scale.FULL, Scale.ZERO), True, 20, RouteWeights(0, 100, 0)),
        (TrafficIntent(0, Scale.ZERO, Scale.FULL), True, 20, RouteWeights(100, 0, 0)),
    ],
)
def test_route_weights_never_send_traffic_to_an_unavailable_side(
    intent: TrafficIntent, available: bool, shadow: int, weights: RouteWeights
) -> None:
    assert plan_route_weights(intent, available, shadow) == weights


def test_http_route_carries_weights_and_mirror() -> None:
    target = RouteTarget(
        name="btc-direction",
        namespace="prod",
        parent_refs=(ParentRef("gw", "infra", "http"),),
        stable_service="btc-direction-v1",
        candidate_service="btc-direction-v2",
        port=8080,
        labels={"app.kubernetes.io/managed-by": "levibot-operator"},
    )
    route = build_http_route(target, RouteWeights(90, 10, 20))
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["parentRefs"] == [
        {"name": "gw", "namespace": "infra", "sectionName": "http"}
    ]
    [rule] = route["spec"]["rules"]
    assert [(b["name"], b["weight"]) for b in rule["backendRefs"]] == [
        ("btc-direction-v1", 90),
        ("btc-direction-v2", 10),
    ]
    [mirror] = rule["filters"]
    assert mirror["type"] == "RequestMirror"
    assert mirror["requestMirror"]["percent"] == 20
    assert mirror["requestMirror"]["backendRef"]["name"] == "btc-direction-v2"
    assert "filters" not in build_http_route(target, RouteWeights(90, 10, 0))["spec"]["rules"][0]
