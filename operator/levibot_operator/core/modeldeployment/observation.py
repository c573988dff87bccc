"""The observed world of one ModelDeployment, gathered into one snapshot before deciding.

Layer: core (pure values). The shell fills these from the API server and the registry.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from levibot_operator import constants as c
from levibot_operator.core.modeldeployment.breakers import Reading
from levibot_operator.core.modeldeployment.drift_memory import DriftSeen
from levibot_operator.core.modeldeployment.spec import ModelDeployment
from levibot_operator.core.modeldeployment.status import MDStatus
from levibot_operator.core.modeldeployment.trainer_result import (
    describe_trainer_result,
    parse_trainer_result,
)

REGISTRY_FOUND = "found"
REGISTRY_MISSING = "missing"
REGISTRY_UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class JobObservation:
    """A trainer Job: finished (succeeded or failed) or still active."""

    name: str
    succeeded: bool = False
    failed: bool = False
    message: str = ""


@dataclass(frozen=True)
class DeploymentObservation:
    """A predictor Deployment the ModelDeployment owns."""

    name: str
    version: str
    track: str
    replicas: int
    ready_replicas: int
    up_to_date: bool = True
    replicas_applied: bool = False  # the operator's field manager owns spec.replicas

    @property
    def available(self) -> bool:
        """Every desired replica is ready on the current template."""
        return self.up_to_date and self.ready_replicas >= self.replicas


@dataclass(frozen=True)
class RegistryObservation:
    """What the registry says about the version just trained."""

    state: str
    registry_status: str = ""
    created: str = ""
    metrics: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class Freshness:
    """The worst feature staleness Prometheus reports for the model, or why it cannot say."""

    staleness_seconds: float | None
    error: str | None = None


@dataclass(frozen=True)
class TradingObservation:
    """The serving version's breaker readings (None: no check due, or the log unreadable), new
    paper results (None: not due) and the ``levibot.io/reset-breaker`` annotation."""

    version: str = ""  # the version the readings judge
    readings: tuple[Reading, ...] | None = None
    paper: Mapping[str, Any] | None = None
    reset_request: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """Everything decide_ needs, observed at ``now``."""

    md: ModelDeployment
    status: MDStatus
    now: datetime
    job: JobObservation | None = None
    registry: RegistryObservation | None = None
    deployments: tuple[DeploymentObservation, ...] = ()
    highest_registered: int = 0
    registry_error: str | None = None  # None: reachable, or not asked this time
    registry_checked: bool = False
    freshness: Freshness | None = None  # None: not measured (no Prometheus configured)
    canary_active: bool = False  # a live Canary owns the HTTPRoute (gatewayAPI)
    live_canaries: tuple[str, ...] = ()  # names of the unfinished Canaries targeting it
    # kinds of the scaling objects (HorizontalPodAutoscaler, PodDisruptionBudget) found, read
    # only when their setting is absent, so a removed setting deletes what it left behind
    scaling_found: frozenset[str] = frozenset()
    drift: DriftSeen | None = None  # drift alerts and scores (None: no Prometheus configured)
    canary_names: tuple[str, ...] = ()  # every Canary of the target, finished ones too
    trading: TradingObservation = field(default_factory=TradingObservation)


def _condition_true(body: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    conditions = (body.get("status") or {}).get("conditions") or ()
    return next(
        (x for x in conditions if x.get("type") == kind and x.get("status") == "True"), None
    )


def parse_job(body: Mapping[str, Any], pods: Iterable[Mapping[str, Any]] = ()) -> JobObservation:
    """A Job body -> finished or not, with the failure message: the trainer's own result from
    its pods (naming the spec field at fault) when one is readable, else the Job's condition."""
    name = str(body.get("metadata", {}).get("name", ""))
    failed = _condition_true(body, "Failed")
    if failed is not None:
        result = parse_trainer_result(pods)
        message = f"{failed.get('reason', 'Failed')}: {failed.get('message', '')}".rstrip(": ")
        if result is not None:
            message = describe_trainer_result(result)
        return JobObservation(name, failed=True, message=message)
    complete = _condition_true(body, "Complete") or _condition_true(body, "SuccessCriteriaMet")
    return JobObservation(name, succeeded=complete is not None)


def parse_deployment(body: Mapping[str, Any]) -> DeploymentObservation:
    """A predictor Deployment body -> version, track, desired and ready replicas."""
    meta, spec, status = body.get("metadata", {}), body.get("spec", {}), body.get("status") or {}
    labels = meta.get("labels") or {}
    replicas = int(spec.get("replicas", 1))
    current = int(status.get("observedGeneration", 0)) >= int(meta.get("generation", 0))
    updated = int(status.get("updatedReplicas", 0)) >= replicas
    return DeploymentObservation(
        name=str(meta.get("name", "")),
        version=str(labels.get(c.LABEL_VERSION, "")),
        track=str(labels.get(c.LABEL_TRACK, "")),
        replicas=replicas,
        ready_replicas=int(status.get("readyReplicas", 0)),
        up_to_date=current and updated,
        replicas_applied=is_replicas_applied(meta.get("managedFields") or ()),
    )


def is_replicas_applied(managed: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the operator's own server-side apply owns ``spec.replicas``."""
    return any(
        entry.get("manager") == c.FIELD_MANAGER
        and "f:replicas" in ((entry.get("fieldsV1") or {}).get("f:spec") or {})
        for entry in managed
    )
