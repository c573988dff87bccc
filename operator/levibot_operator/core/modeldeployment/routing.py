"""The gatewayAPI traffic provider's objects: per-version Services and the HTTPRoute.

Layer: core (pure). With ``spec.traffic.provider: gatewayAPI`` every served version gets its own
Service (``<md>-<version>``, selecting that version only) and one HTTPRoute (``routeName``,
default the ModelDeployment's name) sends traffic to them: all of it to the stable version when
no canary is active (the ModelDeployment writes it), weighted during a canary (the canary
writes it; see ``core.canary.planning`` for who owns what).
"""

from typing import Any

from levibot_operator import constants as c
from levibot_operator.core.modeldeployment.manifests import (
    build_labels,
    build_metadata,
    build_name,
    build_predictor_selector,
)
from levibot_operator.core.modeldeployment.spec import ModelDeployment
from levibot_operator.core.traffic.routes import RouteTarget, build_http_route
from levibot_operator.core.traffic.weights import RouteWeights

SERVICE_PORT = 80


def build_version_service_name(md: ModelDeployment, version: str) -> str:
    """The Service of one version (gatewayAPI provider)."""
    return build_name(md.name, version)


def build_route_name(md: ModelDeployment) -> str:
    """The HTTPRoute's name: ``spec.traffic.gatewayAPI.routeName`` or the MD's name."""
    return md.spec.traffic.route_name or md.name


def build_version_service(md: ModelDeployment, version: str) -> dict[str, Any]:
    """A ClusterIP Service selecting only ``version``'s predictors."""
    port = {
        "name": "http",
        "port": SERVICE_PORT,
        "targetPort": c.PREDICTOR_PORT_NAME,
        "protocol": "TCP",
    }
    labels = build_labels(md, c.COMPONENT_PREDICTOR, **{c.LABEL_VERSION: version})
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": build_metadata(md, build_version_service_name(md, version), labels),
        "spec": {
            "type": "ClusterIP",
            "selector": build_predictor_selector(md, version),
            "ports": [port],
        },
    }


def build_route_target(md: ModelDeployment, stable: str, candidate: str) -> RouteTarget:
    """Where the route lives and which two versions it splits between."""
    return RouteTarget(
        name=build_route_name(md),
        namespace=md.namespace,
        parent_refs=md.spec.traffic.parent_refs,
        stable_service=build_version_service_name(md, stable),
        candidate_service=build_version_service_name(md, candidate),
        port=SERVICE_PORT,
        labels=build_labels(md, c.COMPONENT_PREDICTOR),
    )


def build_route(
    md: ModelDeployment, stable: str, candidate: str, weights: RouteWeights
) -> dict[str, Any]:
    """The weighted HTTPRoute, owned by the ModelDeployment (garbage collected with it)."""
    route = build_http_route(build_route_target(md, stable, candidate), weights)
    route["metadata"] = build_metadata(md, build_route_name(md), route["metadata"]["labels"])
    return route


def build_stable_route(md: ModelDeployment, stable: str) -> dict[str, Any]:
    """The HTTPRoute sending all traffic to the stable version (no canary active)."""
    route = build_route(md, stable, stable, RouteWeights(100, 0, 0))
    rule = route["spec"]["rules"][0]
    rule["backendRefs"] = rule["backendRefs"][:1]
    return route


def plan_stable_routing(
    md: ModelDeployment, stable: str, canary_active: bool
) -> list[dict[str, Any]]:
    """gatewayAPI: the stable version's Service, and the route unless a live canary owns it."""
    if md.spec.traffic.provider != c.PROVIDER_GATEWAY_API:
        return []
    objects = [build_version_service(md, stable)]
    if not canary_active:
        objects.append(build_stable_route(md, stable))
    return objects
