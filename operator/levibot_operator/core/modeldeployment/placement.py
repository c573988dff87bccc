"""Where predictor pods run: ``spec.serving`` antiAffinity, topologySpreadConstraints, affinity,
nodeSelector and tolerations.

Layer: core (pure), in ``modeldeployment``. ``parse_placement`` reads the spec (errors name the
field); ``build_pod_placement`` returns the pod spec keys to merge into the predictor pod
template, only those that are set (so a ModelDeployment without them renders as before). The
template is the same on either track, so a canary's pods are placed as the stable's.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from levibot_operator.core.fields import SpecError, check_enum, read_field, read_optional
from levibot_operator.core.modeldeployment.scaling import build_anti_affinity

Json = Mapping[str, Any]
ANTI_AFFINITY_MODES = ("preferred", "required")


@dataclass(frozen=True)
class Placement:
    anti_affinity: str | None = None
    topology_spread: tuple[Json, ...] = ()
    affinity: Json | None = None
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Json, ...] = ()


def read_objects(obj: Json, key: str, path: str) -> tuple[Json, ...]:
    """A list of objects (``tolerations``, ``topologySpreadConstraints``), each checked."""
    items = read_field(obj, key, path, list, [])
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise SpecError(f"{path}.{key}[{i}]", "must be an object")
    return tuple(items)


def parse_placement(obj: Json, path: str) -> Placement:
    """The scheduling fields of ``spec.serving``."""
    mode = read_optional(obj, "antiAffinity", path, str)
    selector = read_field(obj, "nodeSelector", path, dict, {})
    if not all(isinstance(v, str) for v in selector.values()):
        raise SpecError(f"{path}.nodeSelector", "values must be strings")
    return Placement(
        anti_affinity=None
        if mode is None
        else check_enum(mode, ANTI_AFFINITY_MODES, f"{path}.antiAffinity"),
        topology_spread=read_objects(obj, "topologySpreadConstraints", path),
        affinity=read_optional(obj, "affinity", path, dict),
        node_selector=selector,
        tolerations=read_objects(obj, "tolerations", path),
    )


def build_spread(constraint: Json, selector: Mapping[str, str]) -> dict[str, Any]:
    """A spread constraint; without a labelSelector it counts the ModelDeployment's predictors."""
    default = {"labelSelector": {"matchLabels": dict(selector)}}
    return {**default, **constraint}


def build_pod_placement(placement: Placement, selector: Mapping[str, str]) -> dict[str, Any]:
    """Pod spec keys for ``placement``; ``selector`` picks every predictor pod of the model."""
    keys: dict[str, Any] = {}
    if placement.affinity is not None:
        keys["affinity"] = dict(placement.affinity)
    elif placement.anti_affinity is not None:
        keys["affinity"] = build_anti_affinity(placement.anti_affinity, selector)
    if placement.topology_spread:
        keys["topologySpreadConstraints"] = [
            build_spread(x, selector) for x in placement.topology_spread
        ]
    if placement.node_selector:
        keys["nodeSelector"] = dict(placement.node_selector)
    if placement.tolerations:
        keys["tolerations"] = [dict(x) for x in placement.tolerations]
    return keys
