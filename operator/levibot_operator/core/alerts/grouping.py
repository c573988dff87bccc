"""Group a payload's firing alerts into the actions they ask for.

Layer: core (pure). Alerts with the same namespace, ModelDeployment, version and alertname ask
for one action (roll that version's canary back, or apply the drift policy once): Alertmanager
groups by those labels, so one payload often carries hundreds of them. Actions on one
ModelDeployment are kept in payload order (they read and write the same canaries); actions on
different ModelDeployments are independent and may run concurrently.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from levibot_operator.core.alerts.payload import AlertTarget


@dataclass(frozen=True)
class AlertAction:
    """One action: ``first`` is handed to the callback, ``alerts`` all share its outcome."""

    first: AlertTarget
    alerts: tuple[AlertTarget, ...]


def build_action_key(alert: AlertTarget) -> tuple[str, str, str, str]:
    return (alert.namespace, alert.modeldeployment, alert.version, alert.alertname)


def group_alert_actions(alerts: Iterable[AlertTarget]) -> list[list[AlertAction]]:
    """Per (namespace, ModelDeployment), in order of first appearance: its distinct actions."""
    actions: dict[tuple[str, str, str, str], list[AlertTarget]] = {}
    for alert in alerts:
        actions.setdefault(build_action_key(alert), []).append(alert)
    groups: dict[tuple[str, str], list[AlertAction]] = {}
    for (namespace, modeldeployment, _, _), same in actions.items():
        action = AlertAction(same[0], tuple(same))
        groups.setdefault((namespace, modeldeployment), []).append(action)
    return list(groups.values())
