"""Grouping a payload's alerts into actions: one per (namespace, ModelDeployment, version,
alertname), grouped per ModelDeployment in payload order (core, pure)."""

from levibot_operator.core.alerts.grouping import group_alert_actions
from levibot_operator.core.alerts.payload import AlertTarget


def target(md: str, version: str, name: str, fingerprint: str, ns: str = "prod") -> AlertTarget:
    return AlertTarget(ns, md, version, name, fingerprint, "t0")


def test_alerts_for_one_action_share_it_and_targets_keep_their_order() -> None:
    alerts = [
        target("a", "v2", "Drift", "1"),
        target("b", "v2", "Drift", "2"),
        target("a", "v2", "Drift", "3"),
        target("a", "v1", "Drift", "4"),
        target("a", "v2", "Latency", "5"),
        target("a", "v2", "Drift", "6", ns="dev"),
    ]
    groups = group_alert_actions(alerts)
    assert [[[a.fingerprint for a in act.alerts] for act in g] for g in groups] == [
        [["1", "3"], ["4"], ["5"]],
        [["2"]],
        [["6"]],
    ]
    assert [act.first.fingerprint for act in groups[0]] == ["1", "4", "5"]


def test_no_alerts_no_groups() -> None:
    assert group_alert_actions([]) == []
