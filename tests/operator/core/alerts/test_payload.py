"""The payload parser's name checks: a label that cannot be a Kubernetes name never reaches a
URL; the alert is skipped and reported, the rest of the payload is handled (core, pure)."""

import json

import pytest

from levibot_operator.core.alerts.payload import parse_alert_payload
from tests.operator.support.canary.alerts import alert, payload


@pytest.mark.parametrize(
    ("labels", "field"),
    [
        ({"namespace": "a/b"}, "labels.namespace"),
        ({"namespace": ".."}, "labels.namespace"),
        ({"namespace": "prod."}, "labels.namespace"),
        ({"namespace": "Prod"}, "labels.namespace"),
        ({"namespace": "prod\n"}, "labels.namespace"),
        ({"namespace": "p" * 64}, "labels.namespace"),
        ({"modeldeployment": "../secrets"}, "labels.modeldeployment"),
        ({"modeldeployment": "btc/direction"}, "labels.modeldeployment"),
        ({"modeldeployment": "btc%2Fdirection"}, "labels.modeldeployment"),
        ({"modeldeployment": "a." * 127}, "labels.modeldeployment"),
        ({"version": "V2"}, "labels.version"),
        ({"version": "v2/../x"}, "labels.version"),
        ({"version": "v" * 64}, "labels.version"),
    ],
)
def test_labels_that_are_not_kubernetes_names_skip_the_alert(
    labels: dict[str, str], field: str
) -> None:
    batch = parse_alert_payload(payload(alert(fingerprint="bad", **labels), alert()))
    assert [a.fingerprint for a in batch.firing] == ["a1b2c3d4e5f60718"]
    [skipped] = batch.invalid
    assert skipped.field == f"alerts[0].{field}"
    assert "name" in skipped.problem or "version" in skipped.problem


@pytest.mark.parametrize(
    "labels",
    [
        {"namespace": "a", "modeldeployment": "b", "version": "1"},
        {"namespace": "p" * 63, "modeldeployment": "btc.direction-2", "version": "v" * 63},
        {"modeldeployment": ".".join(["a" * 63] * 3) + "." + "a" * 61},
    ],
)
def test_kubernetes_names_are_accepted(labels: dict[str, str]) -> None:
    batch = parse_alert_payload(payload(alert(**labels)))
    assert len(batch.firing) == 1
    assert batch.invalid == ()


def test_resolved_alerts_are_not_checked() -> None:
    batch = parse_alert_payload(payload(alert("resolved", namespace="a/b")))
    assert (batch.firing, batch.invalid, batch.ignored) == ((), (), 1)


def test_a_label_with_a_lone_surrogate_still_gets_a_fingerprint() -> None:
    body = json.loads(json.dumps(payload(alert(instance="\ud800"))))
    del body["alerts"][0]["fingerprint"]
    [target] = parse_alert_payload(body).firing
    assert len(target.fingerprint) == 16
