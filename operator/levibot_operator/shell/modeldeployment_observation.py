"""Observe a ModelDeployment's world for the shell: feature freshness from Prometheus, its trainer
Jobs (with the failed pods' termination messages), and autoscaling objects left to delete.

Layer: shell. Every function reads; none writes. The ModelDeployment shell and the canary shell
(which watches the trainer Job of a candidate) share them.
"""

import logging

from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException

from levibot_operator import constants as c
from levibot_operator.adapters import kube
from levibot_operator.adapters.prometheus import PrometheusClient, PrometheusError
from levibot_operator.core.modeldeployment.health import build_freshness_query
from levibot_operator.core.modeldeployment.observation import Freshness, JobObservation, parse_job
from levibot_operator.core.modeldeployment.scaling_plan import HPA, PDB
from levibot_operator.core.modeldeployment.spec import ModelDeployment

log = logging.getLogger(__name__)


async def fetch_freshness(
    prometheus: PrometheusClient | None, md: ModelDeployment
) -> Freshness | None:
    """The worst feature staleness of the model's predictors (None without Prometheus)."""
    if prometheus is None:
        return None
    try:
        value = await prometheus.fetch_value(build_freshness_query(md.namespace, md.name))
    except PrometheusError as exc:
        return Freshness(None, error=str(exc))
    return Freshness(value)


async def fetch_scaling_found(api: ApiClient, md: ModelDeployment) -> frozenset[str]:
    """The HPA and PDB kinds that exist although their setting is absent (to be deleted);
    a setting that is present is applied anyway, so it costs no read."""
    serving = md.spec.serving
    wanted = [HPA] if serving.autoscaling is None else []
    wanted += [PDB] if serving.disruption_budget is None else []
    found = [
        kind
        for api_version, kind in wanted
        if await kube.fetch_object(api, api_version, kind, md.namespace, md.name)
    ]
    return frozenset(found)


async def fetch_job(api: ApiClient, namespace: str, name: str) -> JobObservation | None:
    """A trainer Job; once failed, read with its pods, whose termination message is the
    trainer's result naming the field at fault (best effort: the Job alone says it failed)."""
    body = await kube.fetch_object(api, "batch/v1", "Job", namespace, name)
    if body is None or not (job := parse_job(body)).failed:
        return None if body is None else job
    try:
        pods = await kube.fetch_list(api, "v1", "Pod", namespace, {c.LABEL_JOB_NAME: name})
    except ApiException as exc:
        log.warning("pods of job %s/%s not read: %s", namespace, name, exc.status)
        return job
    return parse_job(body, pods)


async def fetch_highest_job_version(api: ApiClient, md: ModelDeployment) -> int:
    """The highest vN any trainer Job of ``md`` trains (a canary's may not be registered yet)."""
    selector = {c.LABEL_MODELDEPLOYMENT: md.name, c.LABEL_COMPONENT: c.COMPONENT_TRAINER}
    jobs = await kube.fetch_list(api, "batch/v1", "Job", md.namespace, selector)
    labels = [str((j["metadata"].get("labels") or {}).get(c.LABEL_VERSION, "")) for j in jobs]
    return max((int(v[1:]) for v in labels if v[:1] == "v" and v[1:].isdigit()), default=0)
