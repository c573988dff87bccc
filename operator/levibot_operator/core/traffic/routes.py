"""The Gateway API HTTPRoute of the ``gatewayAPI`` traffic provider: build it from plain values.

Layer: core (pure), in ``traffic``. One HTTPRoute with weighted backendRefs to the per-version
Services, and a RequestMirror filter (``percent``) for shadow traffic. A side that is not
available gets no weight and no mirror: traffic never moves to it.
"""

from dataclasses import dataclass
from typing import Any

from levibot_operator.core.traffic.weights import RouteWeights

GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1"


@dataclass(frozen=True)
class ParentRef:
    """A Gateway the route attaches to (``spec.traffic.gatewayAPI.parentRefs[]``)."""

    name: str
    namespace: str | None
    section_name: str | None


def _backend(service: str, port: int, weight: int | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"group": "", "kind": "Service", "name": service, "port": port}
    if weight is not None:
        ref["weight"] = weight
    return ref


def _parent(ref: ParentRef) -> dict[str, Any]:
    out: dict[str, Any] = {"name": ref.name}
    if ref.namespace:
        out["namespace"] = ref.namespace
    if ref.section_name:
        out["sectionName"] = ref.section_name
    return out


@dataclass(frozen=True)
class RouteTarget:
    """Where the route lives and which Services it splits between."""

    name: str
    namespace: str
    parent_refs: tuple[ParentRef, ...]
    stable_service: str
    candidate_service: str
    port: int
    labels: dict[str, str]


def build_http_route(target: RouteTarget, weights: RouteWeights) -> dict[str, Any]:
    """The HTTPRoute manifest (server-side apply body) for the given weights."""
    rule: dict[str, Any] = {
        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
        "backendRefs": [
            _backend(target.stable_service, target.port, weights.stable),
            _backend(target.candidate_service, target.port, weights.candidate),
        ],
    }
    if weights.mirror_percent > 0:
        mirror = {
            "backendRef": _backend(target.candidate_service, target.port),
            "percent": weights.mirror_percent,
        }
        rule["filters"] = [{"type": "RequestMirror", "requestMirror": mirror}]
    return {
        "apiVersion": GATEWAY_API_VERSION,
        "kind": "HTTPRoute",
        "metadata": {"name": target.name, "namespace": target.namespace, "labels": target.labels},
        "spec": {"parentRefs": [_parent(r) for r in target.parent_refs], "rules": [rule]},
    }
