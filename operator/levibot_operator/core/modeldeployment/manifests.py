"""Names, labels, metadata and the small objects a ModelDeployment owns, as plain dicts.

Layer: core (pure), in ``modeldeployment``. Names, labels, owner references and security
contexts; the predictor Service and the serving ConfigMap (kill-switch and stable version). The
trainer Job and the predictor Deployment are in ``workloads`` (their env is the contract of
docs/contracts.md).
"""

import hashlib
from collections.abc import Mapping
from typing import Any

from levibot_operator import constants as c
from levibot_operator.core.config import CoreSettings
from levibot_operator.core.modeldeployment.spec import (
    ModelDeployment,
)

Manifest = dict[str, Any]
MAX_NAME = 63
NON_ROOT_UID = 10001


def build_name(*parts: str) -> str:
    """Join parts with '-', shortened to a DNS label with a stable hash suffix when too long."""
    name = "-".join(parts)
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9].rstrip('-')}-{digest}"


def build_job_name(md: ModelDeployment, version: str, attempt: int) -> str:
    """The trainer Job name: deterministic, so a re-run after a crash finds the same Job."""
    return build_name(md.name, "train", version, str(attempt))


def build_deployment_name(md: ModelDeployment, version: str) -> str:
    """The predictor Deployment name of one version."""
    return build_name(md.name, version)


def build_killswitch_name(md: ModelDeployment) -> str:
    """The kill-switch ConfigMap name."""
    return build_name(md.name, "killswitch")


def build_labels(md: ModelDeployment, component: str, **extra: str) -> dict[str, str]:
    """Labels every owned object carries."""
    return {
        c.LABEL_NAME: c.LABEL_NAME_VALUE,
        c.LABEL_COMPONENT: component,
        c.LABEL_MANAGED_BY: c.LABEL_MANAGED_BY_VALUE,
        c.LABEL_MODELDEPLOYMENT: md.name,
        **extra,
    }


def build_owner_reference(md: ModelDeployment) -> Manifest:
    """The controller owner reference to the ModelDeployment (garbage collection)."""
    return {
        "apiVersion": c.API_VERSION,
        "kind": c.MODELDEPLOYMENT_KIND,
        "name": md.name,
        "uid": md.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def build_metadata(md: ModelDeployment, name: str, labels: Mapping[str, str]) -> Manifest:
    """Metadata with name, namespace, labels and the owner reference."""
    return {
        "name": name,
        "namespace": md.namespace,
        "labels": dict(labels),
        "ownerReferences": [build_owner_reference(md)],
    }


def build_pod_security() -> Manifest:
    """Pod-level security: non-root, RuntimeDefault seccomp."""
    return {
        "runAsNonRoot": True,
        "runAsUser": NON_ROOT_UID,
        "runAsGroup": NON_ROOT_UID,
        "fsGroup": NON_ROOT_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def build_container_security() -> Manifest:
    """Container-level security: read-only root, no privilege escalation, no capabilities."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def build_service_account(name: str) -> Manifest:
    """``serviceAccountName`` when one is configured (empty: the namespace default)."""
    return {"serviceAccountName": name} if name else {}


def build_predictor_selector(md: ModelDeployment, version: str) -> dict[str, str]:
    """The (immutable) Deployment selector: the track is left out so promotion can relabel."""
    return {
        c.LABEL_MODELDEPLOYMENT: md.name,
        c.LABEL_COMPONENT: c.COMPONENT_PREDICTOR,
        c.LABEL_VERSION: version,
    }


def build_model_pods_selector(md: ModelDeployment) -> dict[str, str]:
    """Every predictor pod of the ModelDeployment, whatever its version or track."""
    return {c.LABEL_MODELDEPLOYMENT: md.name, c.LABEL_COMPONENT: c.COMPONENT_PREDICTOR}


def build_predictor_service(md: ModelDeployment, settings: CoreSettings) -> Manifest:
    """The Service selecting every version of the ModelDeployment (the `replicas` provider)."""
    del settings  # same signature as the other builders; nothing configurable yet
    selector = build_model_pods_selector(md)
    port = {"name": "http", "port": 80, "targetPort": c.PREDICTOR_PORT_NAME, "protocol": "TCP"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": build_metadata(md, md.name, build_labels(md, c.COMPONENT_PREDICTOR)),
        "spec": {"type": "ClusterIP", "selector": selector, "ports": [port]},
    }


def build_killswitch_configmap(
    md: ModelDeployment, on: bool, stable: str | None = None
) -> Manifest:
    """The serving ConfigMap mounted into every predictor of the ModelDeployment: the
    kill-switch and the stable version (a predictor serving another version is the canary).

    Both are files in a mounted volume, so a flip or a promotion changes no pod template and
    restarts no pod: the kubelet refreshes the files (the local one every second; a real kubelet
    within its sync period, about a minute) and the predictor polls them every tick.
    """
    labels = build_labels(md, c.COMPONENT_PREDICTOR)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": build_metadata(md, build_killswitch_name(md), labels),
        "data": {c.KILLSWITCH_KEY: "true" if on else "false", c.STABLE_VERSION_KEY: stable or ""},
    }
