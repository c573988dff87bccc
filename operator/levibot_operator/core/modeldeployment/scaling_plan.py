"""Plan the predictor's HorizontalPodAutoscaler and PodDisruptionBudget of a ModelDeployment.

Layer: core (pure), in ``modeldeployment``. Both are named after the ModelDeployment (as its
Service). The HPA scales the STABLE Deployment and is retargeted on promotion; the PDB covers
every predictor pod (stable and canary). A setting removed from the spec deletes the object the
snapshot found (``Snapshot.scaling_found``), so nothing is left behind.
"""

from typing import Final

from levibot_operator import constants as c
from levibot_operator.core.intents import ApplyObject, DeleteObject, Intent
from levibot_operator.core.modeldeployment.manifests import (
    build_deployment_name,
    build_labels,
    build_metadata,
    build_model_pods_selector,
)
from levibot_operator.core.modeldeployment.observation import Snapshot
from levibot_operator.core.modeldeployment.scaling import build_hpa, build_pdb

HPA: Final = ("autoscaling/v2", "HorizontalPodAutoscaler")
PDB: Final = ("policy/v1", "PodDisruptionBudget")


def plan_replicas_handover(snap: Snapshot, stable: str) -> list[Intent]:
    """Before the stable Deployment is applied without ``replicas`` (autoscaling on), a second
    field manager takes the field at its current value while the operator's own manager still
    owns it; otherwise dropping it from the apply would reset it to 1 (a promotion, or turning
    autoscaling on, would fall to one pod until the HPA's next sync)."""
    name = build_deployment_name(snap.md, stable)
    seen = next((d for d in snap.deployments if d.name == name), None)
    if snap.md.spec.serving.autoscaling is None or seen is None or not seen.replicas_applied:
        return []
    meta = {"name": name, "namespace": snap.md.namespace}
    manifest: dict[str, object] = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta}
    manifest["spec"] = {"replicas": seen.replicas}
    return [ApplyObject(manifest, c.FIELD_MANAGER_HANDOVER)]


def plan_scaling_objects(snap: Snapshot, stable: str | None) -> list[Intent]:
    """Apply the HPA (once a stable version exists) and the PDB that the spec asks for;
    delete the ones it no longer asks for."""
    md, serving = snap.md, snap.md.spec.serving
    meta = build_metadata(md, md.name, build_labels(md, c.COMPONENT_PREDICTOR))
    intents: list[Intent] = []
    if serving.autoscaling is not None and stable:
        target = build_deployment_name(md, stable)
        intents.append(ApplyObject(build_hpa(meta, target, serving.autoscaling)))
    elif serving.autoscaling is None and HPA[1] in snap.scaling_found:
        intents.append(DeleteObject(*HPA, md.name))
    if serving.disruption_budget is not None:
        selector = build_model_pods_selector(md)
        intents.append(ApplyObject(build_pdb(meta, selector, serving.disruption_budget)))
    elif PDB[1] in snap.scaling_found:
        intents.append(DeleteObject(*PDB, md.name))
    return intents
