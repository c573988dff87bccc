"""Gather one Canary's observation snapshot: target, trainer Job, candidate, weight, analysis.

Layer: shell (read-only I/O). Every read happens here, before ``decide_canary``; the
decision itself does no I/O. A Prometheus failure becomes ``Measurement(error=...)`` (counted
by the analysis run against its consecutive-error limit), never an exception.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient

from levibot_operator import constants as c
from levibot_operator.adapters import kube, registry
from levibot_operator.adapters.prometheus import PrometheusClient, PrometheusError
from levibot_operator.core.canary.analysis import (
    AnalysisTarget,
    assess_checks,
    build_analysis_queries,
)
from levibot_operator.core.canary.decision import (
    CanaryObservation,
    CandidateTraining,
    FiringAlert,
    Measurement,
)
from levibot_operator.core.canary.planning import (
    CandidateView,
    assess_candidate,
    parse_route_weight,
    plan_due_analysis,
)
from levibot_operator.core.canary.spec import CanarySpec, parse_canary_controls
from levibot_operator.core.canary.status import CanaryStatus, Phase
from levibot_operator.core.modeldeployment.manifests import build_deployment_name, build_job_name
from levibot_operator.core.modeldeployment.observation import (
    REGISTRY_FOUND,
    REGISTRY_MISSING,
    DeploymentObservation,
    parse_deployment,
)
from levibot_operator.core.modeldeployment.routing import (
    build_route_name,
    build_version_service_name,
)
from levibot_operator.core.modeldeployment.spec import ModelDeployment
from levibot_operator.core.modeldeployment.status import MDStatus
from levibot_operator.core.modeldeployment.training import plan_next_version
from levibot_operator.core.traffic.weights import assess_achieved_weight
from levibot_operator.settings import OperatorSettings
from levibot_operator.shell.canary_drift import fetch_drift, is_drift_canary
from levibot_operator.shell.canary_judgement import fetch_judged_measurement
from levibot_operator.shell.modeldeployment_observation import (
    fetch_highest_job_version,
    fetch_job,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Observed:
    """The decision's input plus what the write planner needs."""

    observation: CanaryObservation
    candidate: CandidateView


async def fetch_deployment(
    api: ApiClient, md: ModelDeployment, version: str | None
) -> DeploymentObservation | None:
    """A predictor Deployment of one version, if it exists."""
    if not version:
        return None
    name = build_deployment_name(md, version)
    body = await kube.fetch_object(api, "apps/v1", "Deployment", md.namespace, name)
    return parse_deployment(body) if body is not None else None


async def fetch_training(
    api: ApiClient, md: ModelDeployment, status: CanaryStatus, settings: OperatorSettings
) -> tuple[CandidateTraining, str]:
    """The candidate's trainer Job, and (once it succeeded) whether the version is registered;
    with why it failed (the trainer's result, naming the spec field at fault)."""
    version = status.candidate_version
    if status.phase is not Phase.TRAINING or not version:
        return CandidateTraining.NOT_STARTED, ""
    job = await fetch_job(api, md.namespace, build_job_name(md, version, 1))
    if job is None or not (job.failed or job.succeeded):
        return (CandidateTraining.NOT_STARTED if job is None else CandidateTraining.RUNNING), ""
    if job.failed:
        return CandidateTraining.FAILED, job.message
    found = await registry.fetch_registered(api, md, version, settings)
    if found.state == REGISTRY_FOUND:
        return CandidateTraining.SUCCEEDED, ""
    if found.state == REGISTRY_MISSING:
        return CandidateTraining.FAILED, f"job succeeded but {version} is not in the registry"
    return CandidateTraining.RUNNING, ""


async def fetch_next_version(
    api: ApiClient, md: ModelDeployment, md_status: MDStatus, settings: OperatorSettings
) -> str:
    """The next free version: above the registry, the MD's history and every trainer Job."""
    highest = await registry.fetch_highest_version(api, md, settings)
    highest = max(highest, await fetch_highest_job_version(api, md))
    return plan_next_version(md_status, highest)


async def fetch_measurement(
    prometheus: PrometheusClient,
    md: ModelDeployment,
    spec: CanarySpec,
    status: CanaryStatus,
    now: datetime,
    *,
    judge: tuple[ApiClient, OperatorSettings] | None = None,
) -> Measurement | None:
    """One analysis measurement when one is due, else None (``judge``: the API and settings
    with which an analysis with a judgement reads the prediction log)."""
    analysis = plan_due_analysis(spec, status, now)
    if analysis is None or not status.candidate_version or not status.stable_version:
        return None
    ns, name = md.namespace, md.name
    candidate = AnalysisTarget(ns, name, status.candidate_version, c.TRACK_CANARY)
    stable = AnalysisTarget(ns, name, status.stable_version, c.TRACK_STABLE)
    queries = build_analysis_queries(candidate, stable, analysis.window)
    try:
        values = await prometheus.fetch_values(queries)
    except PrometheusError as exc:
        log.warning("analysis of %s/%s: %s", ns, name, exc)
        return Measurement(error=str(exc))
    if analysis.judgement is not None and judge is not None:
        return await fetch_judged_measurement(
            *judge, md, canary=spec, analysis=analysis, status=status, values=values, now=now
        )
    return Measurement(verdicts=assess_checks(values, analysis.thresholds))


async def fetch_achieved_weight(
    api: ApiClient, md: ModelDeployment, status: CanaryStatus, candidate: CandidateView
) -> float:
    """The candidate's actual share: the ready-pod ratio, or the HTTPRoute's weights."""
    version = status.candidate_version
    if md.spec.traffic.provider == c.PROVIDER_GATEWAY_API and version:
        route = await kube.fetch_object(
            api, "gateway.networking.k8s.io/v1", "HTTPRoute", md.namespace, build_route_name(md)
        )
        share = parse_route_weight(route, build_version_service_name(md, version))
        return share or 0.0
    stable = await fetch_deployment(api, md, status.stable_version)
    ready = candidate.deployment.ready_replicas if candidate.deployment else 0
    return assess_achieved_weight(ready, stable.ready_replicas if stable else 0)


@dataclass(frozen=True)
class ObserveInput:
    """What the observer needs besides the API: the parsed canary and its target."""

    body: Mapping[str, Any]
    spec: CanarySpec
    status: CanaryStatus
    md: ModelDeployment | None
    md_status: MDStatus
    alert: FiringAlert | None
    now: datetime


async def fetch_observed(
    api: ApiClient,
    prometheus: PrometheusClient | None,
    settings: OperatorSettings,
    given: ObserveInput,
) -> Observed:
    """The whole snapshot (the alert path skips the analysis query: the alert decides)."""
    controls = parse_canary_controls(given.body["metadata"].get("annotations"))
    md, status = given.md, given.status
    if md is None:
        seen = CanaryObservation(controls=controls, alert=given.alert)
        return Observed(seen, CandidateView(None, False))
    candidate = assess_candidate(
        await fetch_deployment(api, md, status.candidate_version),
        await fetch_deployment(api, md, status.stable_version),  # an autoscaler may have moved it
    )
    next_version = None
    if status.phase is Phase.PENDING and given.spec.candidate_version is None:
        next_version = await fetch_next_version(api, md, given.md_status, settings)
    measure = prometheus is not None and given.alert is None
    training, training_message = await fetch_training(api, md, status, settings)
    drift_canary = is_drift_canary(given.body["metadata"].get("labels"))
    drift = await fetch_drift(prometheus, md, status, given.alert, drift_canary)
    seen = CanaryObservation(
        stable_version=given.md_status.stable_version or None,
        next_version=next_version,
        training=training,
        training_message=training_message,
        traffic_provider=md.spec.traffic.provider,
        candidate_available=candidate.available,
        achieved_weight=await fetch_achieved_weight(api, md, status, candidate),
        # the effective switch: a tripped circuit breaker holds every predictor at HOLD too
        kill_switch=md.spec.kill_switch or given.md_status.circuit_breaker.tripped,
        controls=controls,
        alert=given.alert,
        drift=drift,
        measurement=(
            await fetch_measurement(
                prometheus, md, given.spec, status, given.now, judge=(api, settings)
            )
            if measure and prometheus is not None
            else None
        ),
    )
    return Observed(seen, candidate)
