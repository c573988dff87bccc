"""Read what the drift loop needs from Prometheus: the drift alerts firing for a
ModelDeployment, by version, and the latest normalised drift score of every version and feature.

Layer: shell (read-only I/O). The alert's state is Prometheus' own (``ALERTS``), so the loop
starts and stops with the alert whether or not a webhook delivery arrived. Unreachable:
``DriftSeen(readable=False)`` (the loop keeps its memory and waits); no Prometheus: None.
"""

import logging

from levibot_operator.adapters.prometheus import PrometheusClient, PrometheusError
from levibot_operator.core.canary.market_drift import build_drift_alerts_query
from levibot_operator.core.modeldeployment.drift_memory import DriftSeen
from levibot_operator.core.modeldeployment.spec import ModelDeployment

log = logging.getLogger(__name__)
SCORE_DIGITS = 2  # rounded, so a status write follows a change that matters


def build_drift_scores_query(namespace: str, target: str) -> str:
    """PromQL: the highest drift score of each version and feature (over statistics, tracks)."""
    selector = f'namespace="{namespace}",model="{target}"'
    return f"max by (version, feature) (levibot_feature_drift_score{{{selector}}})"


async def fetch_drift_seen(
    prometheus: PrometheusClient | None, md: ModelDeployment
) -> DriftSeen | None:
    """The drift alerts firing and the drift scores of ``md``'s versions."""
    if prometheus is None:
        return None
    try:
        alerts = await prometheus.fetch_vector(build_drift_alerts_query(md.namespace, md.name))
        scores = await prometheus.fetch_vector(build_drift_scores_query(md.namespace, md.name))
    except PrometheusError as exc:
        log.warning("drift of %s/%s not read: %s", md.namespace, md.name, exc)
        return DriftSeen(readable=False)
    firing: dict[str, set[str]] = {}
    for labels, _ in alerts:
        firing.setdefault(labels.get("version", ""), set()).add(labels.get("alertname", ""))
    by_version: dict[str, dict[str, float]] = {}
    for labels, value in scores:
        feature = labels.get("feature", "")
        by_version.setdefault(labels.get("version", ""), {})[feature] = round(value, SCORE_DIGITS)
    return DriftSeen({v: tuple(sorted(a)) for v, a in firing.items()}, by_version)
