"""decide_modeldeployment stepped one tick at a time: train -> register -> serve -> Ready,
failures with backoff, scheduled retraining, kill-switch, retirement of replaced versions."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from levibot_operator.core.intents import (
    ApplyObject,
    CreateJob,
    DeleteDeployment,
    SetRegistryStatus,
)
from levibot_operator.core.modeldeployment.observation import (
    REGISTRY_FOUND,
    REGISTRY_MISSING,
    REGISTRY_UNAVAILABLE,
    JobObservation,
    RegistryObservation,
)
from levibot_operator.core.modeldeployment.planning import Plan, decide_modeldeployment
from levibot_operator.core.modeldeployment.status import MDStatus
from levibot_operator.core.modeldeployment.training import plan_backoff_seconds
from levibot_operator.settings import OperatorSettings
from tests.operator.support.fakes import NOW, md_body, ready_deployment, snapshot

SETTINGS = OperatorSettings().build_core_settings()
FOUND = RegistryObservation(REGISTRY_FOUND, "candidate", "2026-11-21T12:00:00Z", {"ece": 0.03})


def kinds(plan: Plan) -> list[str]:
    names = []
    for intent in plan.intents:
        if isinstance(intent, ApplyObject | CreateJob):
            names.append(f"{type(intent).__name__}:{intent.manifest['metadata']['name']}")
        else:
            names.append(f"{type(intent).__name__}:{intent.version}")
    return names


def cond(plan: Plan, kind: str) -> tuple[str, str]:
    found = next(x for x in plan.status.conditions if x.type == kind)
    return found.status, found.reason


def trained_v1() -> MDStatus:
    """Status after v1 was recorded and its Job succeeded and registered."""
    first = decide_modeldeployment(snapshot(), SETTINGS)
    done = JobObservation("btc-direction-train-v1-1", succeeded=True)
    return decide_modeldeployment(snapshot(first.status, job=done, registry=FOUND), SETTINGS).status


def test_new_modeldeployment_records_v1_and_creates_its_job() -> None:
    plan = decide_modeldeployment(snapshot(), SETTINGS)
    assert plan.status.training is not None
    assert (plan.status.training.version, plan.status.training.attempt) == ("v1", 1)
    assert kinds(plan) == [
        "CreateJob:btc-direction-train-v1-1",
        "ApplyObject:btc-direction-killswitch",
        "ApplyObject:btc-direction",
    ]
    assert plan.status.phase == "Training"
    assert cond(plan, "Training") == ("True", "TrainingRunning")
    assert [e.reason for e in plan.events] == ["TrainingStarted", "Training"]


def test_version_number_follows_the_registry_when_status_is_empty() -> None:
    plan = decide_modeldeployment(snapshot(highest_registered=4), SETTINGS)
    assert plan.status.training is not None
    assert plan.status.training.version == "v5"


def test_running_job_is_recreated_when_missing_and_left_alone_when_active() -> None:
    recorded = decide_modeldeployment(snapshot(), SETTINGS).status
    missing = decide_modeldeployment(snapshot(recorded), SETTINGS)
    active = decide_modeldeployment(snapshot(recorded, job=JobObservation("j")), SETTINGS)
    assert kinds(missing)[0] == "CreateJob:btc-direction-train-v1-1"
    assert not any(isinstance(x, CreateJob) for x in active.intents)
    assert active.events == ()


def test_succeeded_job_with_registered_version_makes_it_stable_and_deploys() -> None:
    status = trained_v1()
    assert status.stable_version == "v1"
    assert status.training is None
    assert [v.version for v in status.versions] == ["v1"]
    plan = decide_modeldeployment(snapshot(status), SETTINGS)
    assert "ApplyObject:btc-direction-v1" in kinds(plan)
    assert plan.status.phase == "Deploying"


def test_available_predictors_make_it_ready_and_mark_the_version_active() -> None:
    plan = decide_modeldeployment(
        snapshot(trained_v1(), deployments=(ready_deployment("v1"),)), SETTINGS
    )
    assert plan.status.phase == "Ready"
    assert cond(plan, "Ready") == ("True", "Ready")
    assert SetRegistryStatus("v1", "active", "stable") in plan.intents
    assert plan.status.versions[0].registry_status == "active"


def test_registry_unavailable_waits_and_missing_version_fails_the_attempt() -> None:
    recorded = decide_modeldeployment(snapshot(), SETTINGS).status
    done = JobObservation("btc-direction-train-v1-1", succeeded=True)
    down = RegistryObservation(REGISTRY_UNAVAILABLE, message="refused")
    waiting = decide_modeldeployment(snapshot(recorded, job=done, registry=down), SETTINGS)
    assert waiting.status.training == recorded.training
    assert waiting.requeue_after == SETTINGS.retry_delay_seconds
    missing = RegistryObservation(REGISTRY_MISSING)
    failed = decide_modeldeployment(snapshot(recorded, job=done, registry=missing), SETTINGS)
    assert cond(failed, "Training") == ("False", "VersionNotRegistered")


def test_failed_training_keeps_serving_and_retries_after_backoff() -> None:
    serving = decide_modeldeployment(
        snapshot(trained_v1(), deployments=(ready_deployment("v1"),)), SETTINGS
    ).status
    body = md_body(model={"type": "histGradientBoosting"})
    retrain = decide_modeldeployment(snapshot(serving, body=body), SETTINGS).status
    assert retrain.training is not None
    assert retrain.training.version == "v2"
    failed_job = JobObservation(
        "btc-direction-train-v2-1", failed=True, message="BackoffLimitExceeded"
    )
    plan = decide_modeldeployment(
        snapshot(retrain, job=failed_job, body=body, deployments=(ready_deployment("v1"),)),
        SETTINGS,
    )
    assert plan.status.stable_version == "v1"
    assert plan.status.phase == "Ready"
    assert cond(plan, "Training") == ("False", "TrainingFailed")
    assert "Warning" in [e.type for e in plan.events]
    early = snapshot(plan.status, body=body, now=NOW + timedelta(seconds=1))
    assert not any(
        isinstance(x, CreateJob) for x in decide_modeldeployment(early, SETTINGS).intents
    )
    later = snapshot(plan.status, body=body, now=NOW + timedelta(seconds=61))
    retry = decide_modeldeployment(later, SETTINGS)
    assert kinds(retry)[0] == "CreateJob:btc-direction-train-v2-2"


def test_backoff_doubles_and_is_capped() -> None:
    assert [plan_backoff_seconds(n, SETTINGS) for n in (1, 2, 3)] == [60.0, 120.0, 240.0]
    assert plan_backoff_seconds(30, SETTINGS) == SETTINGS.training_backoff_max_seconds


def test_schedule_starts_a_retraining_when_due_and_not_before() -> None:
    status = replace(trained_v1(), last_training_time="2026-11-21T01:00:00Z")
    before = decide_modeldeployment(snapshot(status, now=NOW.replace(hour=1, minute=30)), SETTINGS)
    assert before.status.training is None
    assert before.requeue_after == 1800.0
    after = decide_modeldeployment(snapshot(status, now=NOW.replace(hour=2, minute=1)), SETTINGS)
    assert after.status.training is not None
    assert after.status.training.trigger == "schedule"


def test_serving_only_changes_update_in_place_without_training() -> None:
    status = decide_modeldeployment(
        snapshot(trained_v1(), deployments=(ready_deployment("v1"),)), SETTINGS
    ).status
    body = md_body(serving={"replicas": 5, "buyThreshold": 0.6, "sellThreshold": 0.4})
    plan = decide_modeldeployment(
        snapshot(status, body=body, deployments=(ready_deployment("v1"),)), SETTINGS
    )
    assert plan.status.training is None
    dep = next(
        x for x in plan.intents if isinstance(x, ApplyObject) and x.manifest["kind"] == "Deployment"
    )
    assert dep.manifest["spec"]["replicas"] == 5


def test_kill_switch_flips_the_configmap_and_condition_and_emits_an_event() -> None:
    status = decide_modeldeployment(
        snapshot(trained_v1(), deployments=(ready_deployment("v1"),)), SETTINGS
    ).status
    plan = decide_modeldeployment(
        snapshot(status, body=md_body(killSwitch=True), deployments=(ready_deployment("v1"),)),
        SETTINGS,
    )
    configmap = next(
        x for x in plan.intents if isinstance(x, ApplyObject) and x.manifest["kind"] == "ConfigMap"
    )
    assert configmap.manifest["data"] == {"enabled": "true", "stableVersion": "v1"}
    assert cond(plan, "KillSwitch") == ("True", "KillSwitchOn")
    assert [e.reason for e in plan.events] == ["KillSwitch"]


def test_replaced_stable_version_is_retired_only_once_the_new_one_is_available() -> None:
    status = replace(trained_v1(), stable_version="v2")
    old, new = ready_deployment("v1"), ready_deployment("v2")
    pending = replace(new, ready_replicas=0)
    waiting = decide_modeldeployment(snapshot(status, deployments=(old, pending)), SETTINGS)
    assert not any(isinstance(x, DeleteDeployment) for x in waiting.intents)
    done = decide_modeldeployment(snapshot(status, deployments=(old, new)), SETTINGS)
    assert DeleteDeployment("btc-direction-v1", "v1") in done.intents
    canary = ready_deployment("v3", track="canary")
    with_canary = decide_modeldeployment(snapshot(status, deployments=(new, canary)), SETTINGS)
    assert not any(isinstance(x, DeleteDeployment) for x in with_canary.intents)
