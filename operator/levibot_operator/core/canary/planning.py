"""Plan the API writes of one canary decision, and read the target as the canary sees it.

Layer: core (pure). The shell gathers the observed objects, calls ``decide_canary``, then
``plan_canary_writes`` turns the decision into idempotent intents (the same vocabulary as the
ModelDeployment plan, plus ``PromoteVersion``).

Ownership, so that exactly one party owns each object and transition:

- the ModelDeployment owns the stable Deployment, the Service and (without an active canary)
  the HTTPRoute; the canary never writes them, so the stable side stays fully scaled;
- the canary owns the candidate Deployment (track ``canary``) until it is promoted, the
  HTTPRoute while it is active (and on the tick it ends), and its trainer Job;
- promotion is the canary's: it sets the target's stable version, and only while the target
  still serves the version the canary started from (a repeated or late promotion never undoes
  a newer stable version). The ModelDeployment then relabels the candidate Deployment object
  as stable (its pod template never names a track, so no pod restarts), names the new stable
  version in its serving ConfigMap (the predictors re-label themselves from it) and retires the
  old stable Deployment once the new one is available.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from levibot_operator import constants as c
from levibot_operator.core.canary.decision import CanaryDecision
from levibot_operator.core.canary.run import is_measurement_due, is_waiting_for_metrics
from levibot_operator.core.canary.spec import AnalysisSpec, AnalysisStep, CanarySpec
from levibot_operator.core.canary.status import TERMINAL, CanaryStatus, Phase
from levibot_operator.core.config import CoreSettings
from levibot_operator.core.fields import format_time
from levibot_operator.core.intents import ApplyObject, CreateJob, Intent
from levibot_operator.core.modeldeployment.observation import DeploymentObservation
from levibot_operator.core.modeldeployment.routing import build_route, build_version_service
from levibot_operator.core.modeldeployment.spec import ModelDeployment, build_model_fingerprint
from levibot_operator.core.modeldeployment.status import MDStatus, VersionRecord
from levibot_operator.core.modeldeployment.workloads import (
    build_predictor_deployment,
    build_trainer_job,
)
from levibot_operator.core.traffic.weights import (
    plan_replicas,
    plan_route_weights,
    plan_stable_replicas,
)


@dataclass(frozen=True)
class PromoteVersion:
    """Make ``version`` the target's stable version, if it still serves ``replaced``."""

    version: str
    replaced: str


CanaryIntent = Intent | PromoteVersion


@dataclass(frozen=True)
class CandidateView:
    """The candidate Deployment as observed (None: it does not exist)."""

    deployment: DeploymentObservation | None
    available: bool
    stable_replicas: int | None = None  # the stable Deployment's observed spec.replicas


def assess_candidate(
    deployment: DeploymentObservation | None, stable: DeploymentObservation | None = None
) -> CandidateView:
    """Available means: exists, up to date, at least one replica, every replica ready."""
    ok = deployment is not None and deployment.replicas > 0 and deployment.available
    return CandidateView(deployment, ok, stable.replicas if stable is not None else None)


def is_promotable(md_status: MDStatus, promote: PromoteVersion) -> bool:
    """Promotion applies only over the version the canary started from."""
    return md_status.stable_version == promote.replaced


def build_canary_trainer_job(
    md: ModelDeployment,
    canary: str,
    version: str,
    settings: CoreSettings,
    window: int | None = None,
) -> dict[str, Any]:
    """The MD's trainer Job for ``version``, labelled with the canary that owns it; ``window``:
    the canary's own data window (``spec.candidate.dataWindowSeconds``)."""
    if window is not None:
        training = replace(md.spec.training, data_window_seconds=window)
        md = replace(md, spec=replace(md.spec, training=training))
    job = build_trainer_job(md, version, settings)
    job["metadata"]["labels"][c.LABEL_CANARY] = canary
    return job


def _candidate_writes(
    md: ModelDeployment,
    old: CanaryStatus,
    decision: CanaryDecision,
    seen: CandidateView,
    settings: CoreSettings,
) -> list[CanaryIntent]:
    version, phase = decision.status.candidate_version, decision.status.phase
    if version is None or phase is Phase.SUCCEEDED:
        return []  # after promotion the ModelDeployment owns the Deployment
    stable = plan_stable_replicas(seen.stable_replicas, md.spec.serving.replicas)
    replicas = plan_replicas(decision.traffic, stable).candidate
    current = seen.deployment
    if current is None and replicas == 0:
        return []
    settled = old.phase in TERMINAL and current is not None and current.replicas == replicas
    if settled:
        return []
    manifest = build_predictor_deployment(md, version, c.TRACK_CANARY, replicas, settings)
    return [ApplyObject(manifest)]


def _route_writes(
    md: ModelDeployment,
    spec: CanarySpec,
    old: CanaryStatus,
    decision: CanaryDecision,
    seen: CandidateView,
) -> list[CanaryIntent]:
    status = decision.status
    live = old.phase not in TERMINAL
    stable, candidate = status.stable_version, status.candidate_version
    if (
        md.spec.traffic.provider != c.PROVIDER_GATEWAY_API
        or not live
        or not stable
        or not candidate
    ):
        return []
    weights = plan_route_weights(decision.traffic, seen.available, spec.shadow_percent)
    return [
        ApplyObject(build_version_service(md, stable)),
        ApplyObject(build_version_service(md, candidate)),
        ApplyObject(build_route(md, stable, candidate, weights)),
    ]


def plan_canary_writes(
    md: ModelDeployment,
    canary: str,
    decision: CanaryDecision,
    *,
    spec: CanarySpec,
    old: CanaryStatus,
    seen: CandidateView,
    settings: CoreSettings,
) -> tuple[CanaryIntent, ...]:
    """Every write of one decision, in order: training, candidate, route, registry, promotion."""
    intents: list[CanaryIntent] = []
    if decision.train_version:
        window = spec.data_window_seconds
        job = build_canary_trainer_job(md, canary, decision.train_version, settings, window)
        intents.append(CreateJob(job))
    intents += _candidate_writes(md, old, decision, seen, settings)
    intents += _route_writes(md, spec, old, decision, seen)
    intents += decision.registry
    stable = decision.status.stable_version
    if decision.promoted_version and stable:
        intents.append(PromoteVersion(decision.promoted_version, stable))
    return tuple(intents)


def plan_due_analysis(spec: CanarySpec, status: CanaryStatus, now: datetime) -> AnalysisSpec | None:
    """The analysis whose measurement is due now, or None: Progressing at an analysis step, or
    Paused there because the metrics source errored (the probe that resumes it)."""
    run, index = status.analysis, status.current_step
    measuring = status.phase is Phase.PROGRESSING or is_waiting_for_metrics(status)
    if not measuring or run is None or run.step != index:
        return None
    step = spec.steps[index] if index < len(spec.steps) else None
    if not isinstance(step, AnalysisStep) or not is_measurement_due(run, step.analysis, now):
        return None
    return step.analysis


def build_promoted_status(
    md: ModelDeployment, old: MDStatus, version: str, now: datetime
) -> MDStatus:
    """The target's status with ``version`` stable (recorded in its version history)."""
    record = VersionRecord(
        version=version,
        created=format_time(now),
        metrics={},
        registry_status=c.REGISTRY_ACTIVE,
        fingerprint=build_model_fingerprint(md.spec),
        job_name="",
    )
    kept = tuple(v for v in old.versions if v.version != version)
    return replace(
        old,
        stable_version=version,
        stable_fingerprint=build_model_fingerprint(md.spec),
        versions=(*kept, record),
    )


def parse_route_weight(route: Mapping[str, Any] | None, service: str) -> float | None:
    """The share (percent) of an HTTPRoute's first rule that goes to ``service``."""
    rules = ((route or {}).get("spec") or {}).get("rules") or []
    refs = (rules[0].get("backendRefs") or []) if rules else []
    total = sum(int(r.get("weight", 1)) for r in refs)
    mine = sum(int(r.get("weight", 1)) for r in refs if r.get("name") == service)
    return None if total <= 0 else 100.0 * mine / total
