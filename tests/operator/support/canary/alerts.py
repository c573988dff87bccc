"""Alertmanager webhook payloads (version 4) for the canary webhook tests, and posting them."""

import json
import urllib.error
import urllib.request
from typing import Any


def alert(
    status: str = "firing",
    version: str = "v2",
    alertname: str = "LevibotFeatureDrift",
    starts_at: str = "2026-11-21T12:00:00.123456789Z",
    fingerprint: str = "a1b2c3d4e5f60718",
    **labels: str,
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {
            "alertname": alertname,
            "namespace": "prod",
            "modeldeployment": "btc-direction",
            "version": version,
            "severity": "critical",
            **labels,
        },
        "annotations": {"summary": "feature drift", "value": "0.41"},
        "startsAt": starts_at,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": fingerprint,
    }


def payload(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="LevibotFeatureDrift"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "levibot-operator",
        "groupLabels": {"alertname": "LevibotFeatureDrift"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager",
        "alerts": list(alerts),
    }


def post_payload(url: str, token: str, body: dict[str, Any]) -> int:
    """POST a payload to a webhook URL with a bearer token, as Alertmanager does; the status."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
