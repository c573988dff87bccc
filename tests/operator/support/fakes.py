"""Builders of ModelDeployment bodies and snapshots for the operator's fast tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from levibot_operator.core.modeldeployment.observation import (
    DeploymentObservation,
    JobObservation,
    Snapshot,
)
from levibot_operator.core.modeldeployment.spec import parse_modeldeployment
from levibot_operator.core.modeldeployment.status import MDStatus
from tests.operator.support.cluster import load_example

NOW = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)


def md_body(**spec_overrides: Any) -> dict[str, Any]:
    """The example ModelDeployment with identity filled in and top-level spec overrides."""
    body = copy.deepcopy(load_example())
    body["metadata"].update(namespace="prod", uid="uid-1", generation=1)
    body["spec"].update(spec_overrides)
    return body


def snapshot(
    status: MDStatus | None = None,
    *,
    job: JobObservation | None = None,
    deployments: tuple[DeploymentObservation, ...] = (),
    now: datetime = NOW,
    body: dict[str, Any] | None = None,
    **extra: Any,
) -> Snapshot:
    """A snapshot of the example ModelDeployment."""
    md = parse_modeldeployment(body or md_body())
    return Snapshot(md, status or MDStatus(), now, job, deployments=deployments, **extra)


def ready_deployment(
    version: str, replicas: int = 2, track: str = "stable"
) -> DeploymentObservation:
    """An available predictor Deployment of ``version``."""
    return DeploymentObservation(f"btc-direction-{version}", version, track, replicas, replicas)
