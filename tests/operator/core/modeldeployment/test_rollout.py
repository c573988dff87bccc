"""No version becomes stable ungated (issue 13, 8): after the first, every version the
ModelDeployment trains is rolled out by one Canary built from its template, stepped one tick
at a time through decide_modeldeployment."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from levibot_operator.core.intents import CreateCanary, CreateJob
from levibot_operator.core.modeldeployment.observation import (
    REGISTRY_FOUND,
    JobObservation,
    RegistryObservation,
)
from levibot_operator.core.modeldeployment.planning import Plan, decide_modeldeployment
from levibot_operator.core.modeldeployment.status import MDStatus
from levibot_operator.settings import OperatorSettings
from tests.operator.support.fakes import NOW, md_body, ready_deployment, snapshot

SETTINGS = OperatorSettings().build_core_settings()
FOUND = RegistryObservation(REGISTRY_FOUND, "candidate", "2026-11-21T12:00:00Z", {"ece": 0.03})
SERVING = (ready_deployment("v1"),)
AT_TWO = NOW.replace(hour=2, minute=1)
RETRAIN_C = {"type": "logisticRegression", "hyperparameters": {"C": 0.25}, "calibration": "sigmoid"}


def trained_v1() -> MDStatus:
    first = decide_modeldeployment(snapshot(), SETTINGS)
    done = JobObservation("btc-direction-train-v1-1", succeeded=True)
    status = decide_modeldeployment(snapshot(first.status, job=done, registry=FOUND), SETTINGS)
    served = decide_modeldeployment(snapshot(status.status, deployments=SERVING), SETTINGS)
    return replace(served.status, last_training_time="2026-11-21T01:00:00Z")


def canaries(plan: Plan) -> list[dict[str, Any]]:
    return [i.manifest for i in plan.intents if isinstance(i, CreateCanary)]


def retrain_v2(body: dict[str, Any] | None = None, **extra: Any) -> Plan:
    """v1 stable; a retraining (schedule, or the spec in ``body``) trains and registers v2."""
    started = decide_modeldeployment(
        snapshot(trained_v1(), deployments=SERVING, now=AT_TWO, body=body), SETTINGS
    )
    assert started.status.training is not None
    assert started.status.training.version == "v2"
    done = JobObservation("btc-direction-train-v2-1", succeeded=True)
    return decide_modeldeployment(
        snapshot(
            started.status, job=done, registry=FOUND, deployments=SERVING, now=AT_TWO, body=body,
            **extra,
        ),
        SETTINGS,
    )  # fmt: skip


def test_the_first_version_goes_straight_to_stable() -> None:
    assert trained_v1().stable_version == "v1"


def test_a_scheduled_retrain_opens_a_canary_instead_of_switching_stable() -> None:
    plan = retrain_v2()
    assert plan.status.stable_version == "v1"
    assert plan.status.training is None
    assert [v.version for v in plan.status.versions] == ["v1", "v2"]
    [canary] = canaries(plan)
    meta, spec = canary["metadata"], canary["spec"]
    assert meta["name"] == "btc-direction-v2"
    assert meta["labels"]["levibot.io/trigger"] == "schedule"
    assert meta["ownerReferences"][0]["kind"] == "ModelDeployment"
    assert spec["target"] == "btc-direction"
    assert spec["candidate"] == {"version": "v2"}
    assert spec["steps"] == md_body()["spec"]["canaryTemplate"]["steps"]
    judgement = spec["analysis"]["judgement"]
    assert judgement["agreement"]["onDifferent"] == "rollback"  # same recipe: the template's
    events = [e.message for e in plan.events]
    assert "v2 registered (schedule): canary btc-direction-v2 rolls it out" in events
    training = next(x for x in plan.status.conditions if x.type == "Training")
    assert training.message == "v2 registered; a canary rolls it out"


def test_a_spec_change_canary_evaluates_differences() -> None:
    body = md_body(model=RETRAIN_C)
    started = decide_modeldeployment(
        snapshot(trained_v1(), deployments=SERVING, body=body), SETTINGS
    )
    assert started.status.training is not None
    assert started.status.training.trigger == "specChange"
    done = JobObservation("btc-direction-train-v2-1", succeeded=True)
    plan = decide_modeldeployment(
        snapshot(started.status, job=done, registry=FOUND, deployments=SERVING, body=body), SETTINGS
    )
    [canary] = canaries(plan)
    assert canary["metadata"]["labels"]["levibot.io/trigger"] == "specChange"
    assert canary["spec"]["analysis"]["judgement"]["agreement"]["onDifferent"] == "evaluate"
    assert plan.status.stable_version == "v1"


def test_a_repeated_reconcile_never_opens_a_second_canary_nor_trains() -> None:
    status = retrain_v2().status
    live = ("btc-direction-v2",)
    later = NOW.replace(day=22, hour=2, minute=5)  # the next night's schedule is due too
    again = decide_modeldeployment(
        snapshot(status, deployments=SERVING, now=later, live_canaries=live), SETTINGS
    )
    assert canaries(again) == []
    assert again.status.training is None
    assert not any(isinstance(i, CreateJob) for i in again.intents)
    assert again.requeue_after == SETTINGS.retry_delay_seconds


def test_a_crash_before_the_create_converges_on_the_same_canary() -> None:
    status = retrain_v2().status  # written; the Canary create was lost
    plan = decide_modeldeployment(snapshot(status, deployments=SERVING, now=AT_TWO), SETTINGS)
    assert [c["metadata"]["name"] for c in canaries(plan)] == ["btc-direction-v2"]


def test_a_live_canary_of_someone_else_makes_the_version_wait_its_turn() -> None:
    plan = retrain_v2(live_canaries=("btc-direction-next",))
    assert canaries(plan) == []
    assert plan.status.stable_version == "v1"


def test_a_rolled_back_version_gets_no_new_canary_and_its_spec_no_new_training() -> None:
    body = md_body(model=RETRAIN_C)
    started = decide_modeldeployment(
        snapshot(trained_v1(), deployments=SERVING, body=body), SETTINGS
    )
    done = JobObservation("btc-direction-train-v2-1", succeeded=True)
    status = decide_modeldeployment(
        snapshot(started.status, job=done, registry=FOUND, deployments=SERVING, body=body), SETTINGS
    ).status
    rejected = replace(
        status,
        versions=tuple(
            replace(v, registry_status="rejected") if v.version == "v2" else v
            for v in status.versions
        ),
    )
    plan = decide_modeldeployment(snapshot(rejected, deployments=SERVING, body=body), SETTINGS)
    assert canaries(plan) == []
    assert plan.status.training is None  # the changed spec had its version


def test_a_promoted_version_needs_no_canary() -> None:
    status = retrain_v2().status
    promoted = replace(status, stable_version="v2")
    plan = decide_modeldeployment(snapshot(promoted, now=AT_TWO), SETTINGS)
    assert canaries(plan) == []


def test_versions_another_canary_trained_are_not_rolled_out_again() -> None:
    status = trained_v1()
    other = replace(status.versions[0], version="v2", job_name="", registry_status="candidate")
    plan = decide_modeldeployment(
        snapshot(replace(status, versions=(*status.versions, other)), deployments=SERVING), SETTINGS
    )
    assert canaries(plan) == []
