"""A tripped circuit breaker in the ModelDeployment's plan: the effective kill-switch reaches the
predictors' ConfigMap, with the CircuitBreaker and KillSwitch conditions and the Events; paper
results pass through to status; a ModelDeployment without breakers is planned as before."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np

from levibot_common.trading import Trades
from levibot_operator.core.intents import ApplyObject
from levibot_operator.core.modeldeployment.breaker_spec import CircuitBreakers
from levibot_operator.core.modeldeployment.breakers import TradingInput, assess_breakers
from levibot_operator.core.modeldeployment.observation import TradingObservation
from levibot_operator.core.modeldeployment.planning import Plan, decide_modeldeployment
from levibot_operator.core.modeldeployment.status import MDStatus, build_status_json
from levibot_operator.settings import OperatorSettings
from tests.operator.support.fakes import NOW, md_body, ready_deployment, snapshot

SETTINGS = OperatorSettings().build_core_settings()
SERVING = (ready_deployment("v1"),)
BODY = md_body(circuitBreakers={})


def losing() -> tuple:
    net = np.full(5, -0.003)
    trades = Trades(np.array(["BTCUSDT"] * 5, dtype=object), np.arange(5.0), np.ones(5, np.int8),
                    net + 0.003, net)  # fmt: skip
    return assess_breakers(TradingInput(trades, np.zeros(0), None), CircuitBreakers())


def serving_v1(body: dict = BODY) -> MDStatus:  # type: ignore[type-arg]
    status = MDStatus(stable_version="v1", kill_switch=False)
    return decide_modeldeployment(snapshot(status, deployments=SERVING, body=body), SETTINGS).status


def plan_with(status: MDStatus, seen: TradingObservation, now=NOW, body=BODY) -> Plan:  # type: ignore[no-untyped-def]
    snap = snapshot(status, deployments=SERVING, body=body, now=now, trading=seen)
    return decide_modeldeployment(snap, SETTINGS)


def configmap(plan: Plan) -> dict:  # type: ignore[type-arg]
    found = next(
        x for x in plan.intents if isinstance(x, ApplyObject) and x.manifest["kind"] == "ConfigMap"
    )
    return dict(found.manifest["data"])


def conditions(plan: Plan) -> dict[str, tuple[str, str]]:
    return {x.type: (x.status, x.reason) for x in plan.status.conditions}


def test_a_trip_turns_the_effective_kill_switch_on_with_conditions_and_events() -> None:
    plan = plan_with(serving_v1(), TradingObservation("v1", losing()))
    assert configmap(plan) == {"enabled": "true", "stableVersion": "v1"}
    assert plan.status.kill_switch is True
    assert conditions(plan)["CircuitBreaker"] == ("True", "CircuitBreakerTripped")
    assert conditions(plan)["KillSwitch"] == ("True", "CircuitBreakerTripped")
    assert [e.reason for e in plan.events] == ["CircuitBreakerTripped", "KillSwitch"]
    # the next pass, with no new reading, keeps it on and says nothing new
    again = plan_with(plan.status, TradingObservation("v1"), now=NOW + timedelta(seconds=5))
    assert configmap(again)["enabled"] == "true"
    assert again.events == ()


def test_a_reset_by_hand_restores_the_predictors() -> None:
    tripped = plan_with(serving_v1(), TradingObservation("v1", losing())).status
    reset = plan_with(tripped, TradingObservation("v1", reset_request="tok"))
    assert configmap(reset)["enabled"] == "false"
    assert conditions(reset)["CircuitBreaker"] == ("False", "BreakersClosed")
    assert [e.reason for e in reset.events] == ["CircuitBreakerReset", "KillSwitch"]


def test_readings_of_another_version_are_ignored() -> None:
    plan = plan_with(serving_v1(), TradingObservation("v0", losing()))
    assert configmap(plan)["enabled"] == "false"


def test_without_breakers_the_status_is_written_as_before() -> None:
    plain = md_body()
    status = serving_v1(plain)
    plan = plan_with(status, TradingObservation("v1"), body=plain)
    assert "CircuitBreaker" not in conditions(plan)
    assert "circuitBreaker" not in build_status_json(plan.status)
    assert "paperTrading" not in build_status_json(plan.status)


def test_new_paper_results_reach_the_status() -> None:
    paper = {"at": "2026-11-21T12:00:00Z", "results": [{"version": "v1", "window": "1d"}]}
    plan = plan_with(serving_v1(), TradingObservation("v1", paper=paper))
    assert build_status_json(plan.status)["paperTrading"] == paper
    kept = plan_with(plan.status, TradingObservation("v1"))
    assert kept.status.paper_trading == paper
    assert replace(kept.status, paper_trading={}).paper_trading == {}
