"""Predictor scaling and disruption: ``spec.serving.autoscaling`` and ``podDisruptionBudget``.

Layer: core (pure), in ``modeldeployment``. ``parse_autoscaling`` / ``parse_disruption_budget``
read the spec (errors name the field); ``build_hpa`` is an autoscaling/v2 HorizontalPodAutoscaler
for the STABLE Deployment only, on CPU utilisation or on requests per second per pod (a Pods
metric ``levibot_predict_requests_per_second`` that prometheus-adapter must serve from
``levibot_predict_requests_total``); ``build_pdb`` a policy/v1 PodDisruptionBudget over every
predictor pod of the ModelDeployment. While an HPA exists the operator leaves ``replicas`` out of
the stable Deployment it applies, and the canary sizes its candidate from the stable's observed
count (``core.traffic.weights``). Planned in ``scaling_plan``.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from levibot_operator.core.fields import SpecError, read_optional

Json = Mapping[str, Any]
RPS_METRIC: Final = "levibot_predict_requests_per_second"
HOSTNAME: Final = "kubernetes.io/hostname"


@dataclass(frozen=True)
class Autoscaling:
    min_replicas: int
    max_replicas: int
    cpu_percent: int | None = None
    requests_per_second: float | None = None


@dataclass(frozen=True)
class DisruptionBudget:
    min_available: int | str | None = None
    max_unavailable: int | str | None = None


def parse_autoscaling(obj: Json | None, path: str) -> Autoscaling | None:
    """``autoscaling``: 1 <= min <= max <= 100 and exactly one target."""
    if obj is None:
        return None
    low = read_optional(obj, "minReplicas", path, int) or 1
    high = read_optional(obj, "maxReplicas", path, int)
    if high is None or not 1 <= low <= high <= 100:
        raise SpecError(
            f"{path}.maxReplicas", "must satisfy 1 <= minReplicas <= maxReplicas <= 100"
        )
    cpu = read_optional(obj, "targetCPUUtilizationPercentage", path, int)
    rps = read_optional(obj, "targetRequestsPerSecond", path, float)
    if (cpu is None) == (rps is None):
        problem = "set exactly one of targetCPUUtilizationPercentage, targetRequestsPerSecond"
        raise SpecError(path, problem)
    return Autoscaling(low, high, cpu, rps)


def parse_disruption_budget(obj: Json | None, path: str) -> DisruptionBudget | None:
    """``podDisruptionBudget``: exactly one of minAvailable, maxUnavailable (int or percent)."""
    if obj is None:
        return None
    low, high = obj.get("minAvailable"), obj.get("maxUnavailable")
    if (low is None) == (high is None):
        raise SpecError(path, "set exactly one of minAvailable, maxUnavailable")
    return DisruptionBudget(low, high)


def build_metric(scaling: Autoscaling) -> dict[str, Any]:
    if scaling.cpu_percent is not None:
        target = {"type": "Utilization", "averageUtilization": scaling.cpu_percent}
        return {"type": "Resource", "resource": {"name": "cpu", "target": target}}
    value = f"{round((scaling.requests_per_second or 0.0) * 1000)}m"
    target = {"type": "AverageValue", "averageValue": value}
    return {"type": "Pods", "pods": {"metric": {"name": RPS_METRIC}, "target": target}}


def build_hpa(metadata: Mapping[str, Any], deployment: str, scaling: Autoscaling) -> dict[str, Any]:
    """The HorizontalPodAutoscaler of the stable Deployment ``deployment``."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": dict(metadata),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
            "minReplicas": scaling.min_replicas,
            "maxReplicas": scaling.max_replicas,
            "metrics": [build_metric(scaling)],
        },
    }


def build_pdb(
    metadata: Mapping[str, Any], selector: Mapping[str, str], budget: DisruptionBudget
) -> dict[str, Any]:
    """The PodDisruptionBudget over the predictor pods ``selector`` picks (every version)."""
    limit = (
        {"minAvailable": budget.min_available}
        if budget.min_available is not None
        else {"maxUnavailable": budget.max_unavailable}
    )
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": dict(metadata),
        "spec": {"selector": {"matchLabels": dict(selector)}, **limit},
    }


def build_anti_affinity(mode: str, selector: Mapping[str, str]) -> dict[str, Any]:
    """``antiAffinity: preferred|required``: predictor pods spread over nodes (hostname)."""
    term: dict[str, Any] = {
        "labelSelector": {"matchLabels": dict(selector)},
        "topologyKey": HOSTNAME,
    }
    if mode == "required":
        rule: dict[str, Any] = {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
    else:
        weighted = {"weight": 100, "podAffinityTerm": term}
        rule = {"preferredDuringSchedulingIgnoredDuringExecution": [weighted]}
    return {"podAntiAffinity": rule}
