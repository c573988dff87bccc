"""The chart's alert path, end to end on real servers: a predictor-like exporter with a drifted
canary → Prometheus evaluating the chart's rules → Alertmanager with the chart's example
receiver → the operator's real webhook app (bearer token) → the callback gets the target."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import ClientSession, web

from levibot_devstack.net import free_port
from levibot_devstack.services import AlertmanagerServer, PrometheusServer
from levibot_operator.core.alerts.payload import AlertTarget
from levibot_operator.servers.webhook import WebhookConfig, build_webhook_app
from tests.chart.support.render import one, render, rule_groups
from tests.support.services import NULL_ALERTMANAGER_CONFIG

pytestmark = pytest.mark.prometheus
SCORE = 'levibot_feature_drift_score{{model="btc-direction",version="{}",track="{}",{}}} {}'
FEATURE = 'feature="ret_1m",statistic="psi"'
EXPOSITION = "\n".join([
    "# TYPE levibot_feature_drift_score gauge",
    SCORE.format("v2", "canary", FEATURE, 1.6),
    SCORE.format("v1", "stable", FEATURE, 0.4),
    "",
])  # fmt: skip
FAST_RULES = [
    "prometheusRule.enabled=true",
    'prometheusRule.interval="1s"',
    'prometheusRule.rules.driftScore.for="0s"',
]


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Runs an aiohttp app on a free loopback port; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def exporter() -> web.Application:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(text=EXPOSITION, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    return app


def prometheus_config(rules: Path, exporter_url: str, alertmanager: AlertmanagerServer) -> str:
    return json.dumps({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "alerting": {"alertmanagers": [{"static_configs": [
            {"targets": [alertmanager.url.removeprefix("http://")]}]}]},
        "scrape_configs": [{"job_name": "predictors", "static_configs": [
            {"targets": [exporter_url.removeprefix("http://")], "labels": {"namespace": "ml"}}]}],
    })  # fmt: skip


def alertmanager_config(objects: list[dict[str, Any]], webhook_url: str, token: Path) -> str:
    """The chart's example receiver, pointed at the local webhook and token file."""
    cm = one(objects, "ConfigMap", "levibot-alertmanager-example")
    config = yaml.safe_load(cm["data"]["alertmanager.yml"])
    hook = config["receivers"][1]["webhook_configs"][0]
    path = hook["url"].split(":", 2)[2].split("/", 1)[1]
    hook["url"] = f"{webhook_url}/{path}"
    hook["http_config"]["authorization"]["credentials_file"] = str(token)
    return yaml.safe_dump(config)


async def test_drift_alert_reaches_the_webhook_with_its_target(
    prometheus: PrometheusServer, alertmanager: AlertmanagerServer, tmp_path: Path
) -> None:
    objects = render(sets=FAST_RULES)
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(rule_groups(objects)))
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    received: list[AlertTarget] = []

    async def on_alert(alert: AlertTarget) -> bool:
        received.append(alert)
        return True

    webhook = build_webhook_app(WebhookConfig(token_file=token), on_alert)
    async with serve(webhook) as hook_url, serve(exporter()) as exporter_url:
        try:
            alertmanager.reload(alertmanager_config(objects, hook_url, token))
            prometheus.reload(prometheus_config(rules, exporter_url, alertmanager))
            for _ in range(600):
                if received:
                    break
                await asyncio.sleep(0.1)
        finally:
            prometheus.reload("global:\n  scrape_interval: 1s\n")
            alertmanager.reload(NULL_ALERTMANAGER_CONFIG)
    assert received, "no alert reached the webhook within 60 s"
    first = received[0]
    assert (first.alertname, first.namespace, first.modeldeployment, first.version) == (
        "LevibotFeatureDriftScore",
        "ml",
        "btc-direction",
        "v2",
    )
    assert all(a.version == "v2" for a in received)


async def test_probes_and_helm_test_hook_match_the_webhook_app(tmp_path: Path) -> None:
    objects = render()
    container = one(objects, "Deployment", "levibot-operator")["spec"]["template"]["spec"][
        "containers"
    ][0]
    probe = container["livenessProbe"]["httpGet"]
    hook_url = one(objects, "Pod", "levibot-test-webhook")["spec"]["containers"][0]["command"][-1]
    token = tmp_path / "token"
    token.write_text("t")

    async def on_alert(alert: AlertTarget) -> bool:
        raise AssertionError(f"unexpected {alert}")

    app = build_webhook_app(WebhookConfig(token_file=token), on_alert)
    async with serve(app) as url, ClientSession() as http:
        async with http.get(f"{url}{probe['path']}") as resp:
            assert resp.status == 200
        path = "/" + hook_url.split("/", 3)[3]
        async with http.post(f"{url}{path}", json={}) as resp:
            assert resp.status == 401  # what the helm test hook expects
    assert probe["port"] == "webhook"
    assert container["readinessProbe"]["httpGet"] == probe
