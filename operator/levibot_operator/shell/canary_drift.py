"""Read the drift alerts firing for a canary's target, and both versions' drift scores.

Layer: shell (read-only I/O), for ``canary_observation``. The alert's state is read from
Prometheus every tick (``ALERTS``), so a canary paused by the market's drift resumes once the
alert stops firing even when Alertmanager's resolved notification never arrives; a drift alert
delivered to the webhook counts as firing at once. An unreachable Prometheus reads as None
(nothing known: a paused canary stays paused).
"""

import logging

from levibot_operator import constants as c
from levibot_operator.adapters.prometheus import PrometheusClient, PrometheusError
from levibot_operator.core.canary.decision import FiringAlert
from levibot_operator.core.canary.drift_observation import DriftObservation
from levibot_operator.core.canary.market_drift import (
    LIVE,
    build_drift_alerts_query,
    build_drift_score_query,
    is_drift_alert,
    plan_confirm_seconds,
)
from levibot_operator.core.canary.status import CanaryStatus
from levibot_operator.core.modeldeployment.canary_template import TRIGGER_DRIFT
from levibot_operator.core.modeldeployment.spec import ModelDeployment

log = logging.getLogger(__name__)


def is_drift_canary(labels: dict[str, str] | None) -> bool:
    """A canary the drift policy opened (``levibot.io/trigger: drift``)."""
    return (labels or {}).get(c.LABEL_TRIGGER) == TRIGGER_DRIFT


async def fetch_drift(
    prometheus: PrometheusClient | None,
    md: ModelDeployment,
    status: CanaryStatus,
    alert: FiringAlert | None,
    drift_canary: bool,
) -> DriftObservation | None:
    """The drift alerts firing now (plus ``alert`` when it is one) and the stable's score."""
    if status.phase not in LIVE:
        return None
    given = ((alert.alertname, alert.version),) if alert and is_drift_alert(alert.alertname) else ()
    if prometheus is None or not status.stable_version:
        return DriftObservation(given, None, drift_canary) if given else None
    try:
        series = await prometheus.fetch_vector(build_drift_alerts_query(md.namespace, md.name))
        firing = {(s.get("alertname", ""), s.get("version", "")) for s, _ in series}
        stable = candidate = None
        if firing or given:
            monitoring = md.spec.serving.monitoring
            seconds = plan_confirm_seconds(
                monitoring.drift_window_seconds, monitoring.drift_alert_for_seconds
            )
            query = build_drift_score_query(
                md.namespace, md.name, status.stable_version, seconds=seconds
            )
            stable = await prometheus.fetch_value(query)
            if status.candidate_version:
                query = build_drift_score_query(
                    md.namespace, md.name, status.candidate_version, seconds=seconds, lowest=True
                )
                candidate = await prometheus.fetch_value(query)
    except PrometheusError as exc:
        log.warning("drift alerts of %s/%s not read: %s", md.namespace, md.name, exc)
        return DriftObservation(given, None, drift_canary) if given else None
    alerts = tuple(sorted(firing | set(given)))
    return DriftObservation(alerts, stable, drift_canary, candidate_score=candidate)
