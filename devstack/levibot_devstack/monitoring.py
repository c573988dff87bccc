"""The local Prometheus and Alertmanager configuration of the dev stack.

Tooling layer, pure: Prometheus scrapes the predictor pods the local kubelet lists in a file_sd
file and evaluates the chart's rules; Alertmanager posts every alert to the operator pods'
webhooks with the chart's bearer token.
"""

from __future__ import annotations

import json
from pathlib import Path

NULL_ALERTMANAGER = "route: {receiver: nowhere}\nreceivers: [{name: nowhere}]\n"


def build_prometheus_config(targets: Path, rules: Path, am_port: int, every: int) -> str:
    return json.dumps(
        {
            "global": {"scrape_interval": f"{every}s", "evaluation_interval": f"{every}s"},
            "rule_files": [str(rules)],
            "alerting": {
                "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]
            },
            "scrape_configs": [
                {
                    "job_name": "levibot-predictors",
                    # the operator's series name the ModelDeployment's namespace themselves
                    "honor_labels": True,
                    "file_sd_configs": [{"files": [str(targets)], "refresh_interval": "5s"}],
                }
            ],
        },
        indent=1,
    )


def build_alertmanager_config(urls: list[str], token_file: Path) -> str:
    auth = {"authorization": {"type": "Bearer", "credentials_file": str(token_file)}}
    return json.dumps(
        {
            "route": {
                "receiver": "levibot",
                "group_by": ["namespace", "modeldeployment", "version", "alertname"],
                "group_wait": "0s",
                "group_interval": "5s",
                "repeat_interval": "1m",
            },
            "receivers": [
                {
                    "name": "levibot",
                    "webhook_configs": [
                        {"url": url, "send_resolved": True, "http_config": auth} for url in urls
                    ],
                }
            ],
        },
        indent=1,
    )
