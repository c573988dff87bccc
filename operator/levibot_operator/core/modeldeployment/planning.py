"""Plan a ModelDeployment: observed snapshot -> new status, intents (API writes) and Events.

Layer: core (pure). The shell writes the status first, then applies the intents, then posts the
Events; every intent is idempotent, so a crash at any point converges on the next pass.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from levibot_operator import constants as c
from levibot_operator.core.config import CoreSettings
from levibot_operator.core.fields import SpecError
from levibot_operator.core.intents import (
    ApplyObject,
    CreateCanary,
    DeleteDeployment,
    EventIntent,
    Intent,
    SetRegistryStatus,
)
from levibot_operator.core.modeldeployment.breaker_plan import (
    build_breaker_condition,
    build_kill_switch_condition,
    is_kill_switch_on,
    plan_trading,
)
from levibot_operator.core.modeldeployment.drift_retrain import plan_drift_retrain
from levibot_operator.core.modeldeployment.health import (
    build_data_fresh_condition,
    build_database_condition,
)
from levibot_operator.core.modeldeployment.manifests import (
    build_deployment_name,
    build_killswitch_configmap,
    build_predictor_service,
)
from levibot_operator.core.modeldeployment.observation import DeploymentObservation, Snapshot
from levibot_operator.core.modeldeployment.rollout import plan_version_canary
from levibot_operator.core.modeldeployment.routing import plan_stable_routing
from levibot_operator.core.modeldeployment.scaling_plan import (
    plan_replicas_handover,
    plan_scaling_objects,
)
from levibot_operator.core.modeldeployment.status import (
    FAILED,
    RUNNING,
    Condition,
    MDStatus,
    build_conditions,
)
from levibot_operator.core.modeldeployment.training import decide_training
from levibot_operator.core.modeldeployment.workloads import build_predictor_deployment


@dataclass(frozen=True)
class Plan:
    status: MDStatus
    intents: tuple[Intent, ...]
    events: tuple[EventIntent, ...]
    requeue_after: float | None = None


def find_stable(snap: Snapshot, version: str) -> DeploymentObservation | None:
    """The observed Deployment serving ``version``."""
    name = build_deployment_name(snap.md, version)
    return next((d for d in snap.deployments if d.name == name), None)


def decide_serving(snap: Snapshot, status: MDStatus, settings: CoreSettings) -> tuple[Intent, ...]:
    """Kill-switch ConfigMap, Service, the stable Deployment (without ``replicas`` while an
    autoscaler owns it), its HPA and the PDB, and retiring replaced versions."""
    md = snap.md
    intents: list[Intent] = [
        ApplyObject(
            build_killswitch_configmap(md, is_kill_switch_on(md, status), status.stable_version)
        ),
        ApplyObject(build_predictor_service(md, settings)),
    ]
    stable = status.stable_version
    if not stable:
        return (*intents, *plan_scaling_objects(snap, None))
    replicas = None if md.spec.serving.autoscaling else md.spec.serving.replicas
    intents.extend(plan_replicas_handover(snap, stable))
    intents.append(
        ApplyObject(build_predictor_deployment(md, stable, c.TRACK_STABLE, replicas, settings))
    )
    intents.extend(plan_scaling_objects(snap, stable))
    intents.extend(ApplyObject(m) for m in plan_stable_routing(md, stable, snap.canary_active))
    observed = find_stable(snap, stable)
    if observed is not None and observed.available:
        intents.extend(decide_retirements(snap, stable))
    return tuple(intents)


def decide_retirements(snap: Snapshot, stable: str) -> list[Intent]:
    """Replaced stable-track Deployments go once the new stable one is available."""
    intents: list[Intent] = []
    for dep in snap.deployments:
        if dep.track == c.TRACK_STABLE and dep.version != stable:
            intents.append(DeleteDeployment(dep.name, dep.version))
            reason = f"replaced by {stable}"
            intents.append(SetRegistryStatus(dep.version, c.REGISTRY_RETIRED, reason))
    return intents


def decide_registry_marks(snap: Snapshot, status: MDStatus) -> tuple[MDStatus, tuple[Intent, ...]]:
    """Once the stable version serves, mark it active in the registry (and in the history)."""
    observed = find_stable(snap, status.stable_version) if status.stable_version else None
    if observed is None or not observed.available:
        return status, ()
    stable = status.stable_version
    marks = tuple(
        SetRegistryStatus(r.version, c.REGISTRY_ACTIVE, "stable")
        for r in status.versions
        if r.version == stable and r.registry_status != c.REGISTRY_ACTIVE
    )
    versions = tuple(
        replace(r, registry_status=c.REGISTRY_ACTIVE)
        if r.version == stable
        else replace(r, registry_status=c.REGISTRY_RETIRED)
        if r.registry_status == c.REGISTRY_ACTIVE
        else r
        for r in status.versions
    )
    return replace(status, versions=versions), marks


def build_training_condition(status: MDStatus, old: MDStatus) -> Condition:
    """Training: True while a Job runs; False with the failure reason, or idle."""
    training = status.training
    if training is not None and training.state == RUNNING:
        message = (
            f"training {training.version} (attempt {training.attempt}, job {training.job_name})"
        )
        return Condition(c.COND_TRAINING, "True", c.REASON_TRAINING_RUNNING, message)
    if training is not None:
        return Condition(c.COND_TRAINING, "False", training.reason, training.message)
    if old.training is not None and status.training is None:
        version = old.training.version
        rollout = "" if status.stable_version == version else "; a canary rolls it out"
        message = f"{version} registered{rollout}"
        return Condition(c.COND_TRAINING, "False", c.REASON_TRAINING_SUCCEEDED, message)
    previous = next((x for x in old.conditions if x.type == c.COND_TRAINING), None)
    if previous is not None and previous.reason == c.REASON_TRAINING_SUCCEEDED:
        return previous
    return Condition(c.COND_TRAINING, "False", c.REASON_IDLE, "no training in flight")


def build_serving_condition(snap: Snapshot, status: MDStatus) -> Condition:
    """Serving: True when every replica of the stable version is ready."""
    if not status.stable_version:
        return Condition(c.COND_SERVING, "False", c.REASON_NO_MODEL, "no version trained yet")
    observed = find_stable(snap, status.stable_version)
    if observed is None or not observed.available:
        ready = observed.ready_replicas if observed else 0
        replicas = snap.md.spec.serving.replicas
        message = f"{status.stable_version}: {ready}/{replicas} predictors ready"
        return Condition(c.COND_SERVING, "False", c.REASON_DEPLOYING, message)
    message = f"{status.stable_version}: {observed.ready_replicas} predictors ready"
    return Condition(c.COND_SERVING, "True", c.REASON_AVAILABLE, message)


def build_phase(status: MDStatus, serving: Condition) -> str:
    """The phase shown by `kubectl get md`."""
    if serving.status == "True":
        return c.PHASE_READY
    if status.stable_version:
        return c.PHASE_DEPLOYING
    if status.training is not None and status.training.state == FAILED:
        return c.PHASE_DEGRADED
    if status.training is not None:
        return c.PHASE_TRAINING
    return c.PHASE_PENDING


def build_condition_set(snap: Snapshot, status: MDStatus) -> tuple[Condition, ...]:
    """Every condition for the new status (DatabaseReachable only when there is news)."""
    serving = build_serving_condition(snap, status)
    breaker = build_breaker_condition(snap.md, status)
    ready = Condition(
        c.COND_READY,
        serving.status,
        c.REASON_READY if serving.status == "True" else serving.reason,
        serving.message,
    )
    return (
        ready,
        build_training_condition(status, snap.status),
        serving,
        build_data_fresh_condition(snap),
        build_kill_switch_condition(snap.md, status),
        *((breaker,) if breaker else ()),
        *((database,) if (database := build_database_condition(snap)) else ()),
    )


def build_events(
    old: MDStatus, new: MDStatus, intents: tuple[Intent, ...]
) -> tuple[EventIntent, ...]:
    """One Event per transition between the old and the new status."""
    events: list[EventIntent] = []
    t_old, t_new = old.training, new.training
    if t_new is not None and t_new.state == RUNNING and t_new != t_old:
        text = f"training {t_new.version} attempt {t_new.attempt} ({t_new.trigger})"
        text += f", job {t_new.job_name}"
        events.append(EventIntent(c.EVENT_TRAINING_STARTED, text))
    if t_new is not None and t_new.state == FAILED and (t_old is None or t_old.state == RUNNING):
        events.append(
            EventIntent(c.EVENT_TRAINING_FAILED, f"{t_new.reason}: {t_new.message}", "Warning")
        )
    if new.stable_version != old.stable_version:
        text = f"{new.stable_version} registered and made stable"
        events.append(EventIntent(c.EVENT_VERSION_REGISTERED, text))
    if new.kill_switch != old.kill_switch and old.kill_switch is not None:
        text = "on: predictors answer HOLD" if new.kill_switch else "off: predictors restored"
        events.append(
            EventIntent(c.EVENT_KILL_SWITCH, text, "Warning" if new.kill_switch else "Normal")
        )
    for intent in intents:
        if isinstance(intent, CreateCanary):
            events.append(EventIntent(c.EVENT_VERSION_REGISTERED, describe_canary(intent)))
        if isinstance(intent, DeleteDeployment):
            text = f"predictor {intent.name} ({intent.version}) retired"
            events.append(EventIntent(c.EVENT_PREDICTOR_RETIRED, text))
    if new.phase != old.phase:
        events.append(EventIntent(new.phase, f"phase {old.phase} -> {new.phase}: {new.message}"))
    return tuple(events)


def describe_canary(intent: CreateCanary) -> str:
    """``v2 registered (schedule): canary btc-direction-v2 rolls it out``."""
    meta = intent.manifest["metadata"]
    labels = meta["labels"] if isinstance(meta, dict) else {}
    name = meta["name"] if isinstance(meta, dict) else ""
    version, trigger = labels.get(c.LABEL_VERSION), labels.get(c.LABEL_TRIGGER)
    return f"{version} registered ({trigger}): canary {name} rolls it out"


def name_canary(intent: CreateCanary) -> str:
    meta = intent.manifest["metadata"]
    return str(meta["name"]) if isinstance(meta, dict) else ""


def decide_modeldeployment(snap: Snapshot, settings: CoreSettings) -> Plan:
    """The whole reconcile decision for one ModelDeployment."""
    step = decide_training(snap, settings)
    status, marks = decide_registry_marks(snap, step.status)
    status, breaker_events = plan_trading(snap, status)
    canary = plan_version_canary(snap.md, status, snap.live_canaries)
    live = (*snap.live_canaries, *(name_canary(x) for x in canary))
    drift = plan_drift_retrain(snap.md, status, snap.drift, (live, snap.canary_names), snap.now)
    status = drift.status
    intents = (*step.jobs, *decide_serving(snap, status, settings), *marks, *canary)
    conditions = build_condition_set(snap, status)
    phase = build_phase(status, conditions[2])
    new = replace(
        status,
        phase=phase,
        message=conditions[0].message if phase != c.PHASE_READY else conditions[1].message,
        observed_generation=snap.md.generation,
        kill_switch=is_kill_switch_on(snap.md, status),
        conditions=build_conditions(
            snap.status.conditions, conditions, snap.now, snap.md.generation
        ),
    )
    events = (*breaker_events, *build_events(snap.status, new, intents), *drift.events)
    waits = [w for w in (step.requeue_after, drift.requeue_after) if w is not None]
    return Plan(new, (*intents, *drift.canaries), events, min(waits, default=None))


def decide_invalid_spec(status: MDStatus, error: SpecError, generation: int, now: datetime) -> Plan:
    """An invalid spec: a condition naming the field, phase Failed, no objects at all."""
    message = f"invalid spec: {error}"
    ready = Condition(c.COND_READY, "False", c.REASON_INVALID_SPEC, message)
    conditions = build_conditions(status.conditions, (ready,), now, generation)
    new = replace(
        status,
        phase=c.PHASE_FAILED,
        message=message,
        observed_generation=generation,
        conditions=conditions,
    )
    events = (EventIntent(c.EVENT_INVALID_SPEC, message, "Warning"),)
    return Plan(new, (), events if status.message != message else ())


def decide_reconcile_error(
    old: MDStatus, status: MDStatus, failure: tuple[str, str], generation: int, now: datetime
) -> Plan:
    """A reconcile that failed (a bug, or a write the server refused): ``status`` with
    Ready=False naming the ``(reason, message)``, the phase kept, no objects; a Warning Event
    when ``old`` (the status last written) did not already say so. Retried later."""
    reason, message = failure
    ready = Condition(c.COND_READY, "False", reason, message)
    conditions = build_conditions(status.conditions, (ready,), now, generation)
    new = replace(status, message=message, conditions=conditions)
    event = EventIntent(reason, message, "Warning")
    return Plan(new, (), (event,) if old.message != message else ())
