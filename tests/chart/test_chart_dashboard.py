"""The Grafana dashboard: valid JSON, the panels the issue asks for, real metrics, valid PromQL."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from levibot_devstack.services import PrometheusServer
from levibot_operator.adapters.metrics import OperatorMetrics
from tests.chart.support.images import fetch_url, running_predictor
from tests.chart.support.render import CHART, ROOT, alerts, one, render, rule_groups
from tests.predictor.support.models import make_model, write_model

DASHBOARD = CHART / "files" / "dashboard.json"
METRIC = re.compile(r"\blevibot_[a-z0-9_]+")
SUFFIXES = ("_bucket", "_count", "_sum", "_total")
VARIABLES = {
    "$__rate_interval": "5m",
    "$namespace": ".*",
    "$modeldeployment": ".*",
    "$version": ".*",
}


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def panel_queries(board: dict[str, Any]) -> dict[str, list[str]]:
    return {
        p["title"]: [t["expr"] for t in p.get("targets", [])]
        for p in board["panels"]
        if p["type"] != "row"
    }


def all_queries(board: dict[str, Any]) -> list[str]:
    variables = [v["query"]["query"] for v in board["templating"]["list"] if v["type"] == "query"]
    return [q for qs in panel_queries(board).values() for q in qs] + variables


def family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def contract_metrics() -> set[str]:
    table = [
        line
        for line in (ROOT / "docs" / "contracts.md").read_text().splitlines()
        if line.startswith("| `levibot_")
    ]
    return {family(m) for line in table for m in METRIC.findall(line.split("|")[1])}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Metric families a real predictor process exposes on /metrics, and the operator's."""
    home = tmp_path_factory.mktemp("predictor")
    with running_predictor(home, write_model(home, make_model())) as (url, proc):
        text = fetch_url(f"{url}/metrics", proc).decode()
    operator = OperatorMetrics(CollectorRegistry()).registry.collect()
    return {f.name for f in text_string_to_metric_families(text)} | {f.name for f in operator}


def test_dashboard_json_parses_and_is_in_the_configmap() -> None:
    board = dashboard()
    assert board["uid"] == "levibot-overview"
    cm = one(render(), "ConfigMap", "levibot-dashboard")
    assert json.loads(cm["data"]["levibot-dashboard.json"]) == board
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    "metric",
    [
        "levibot_model_latency_seconds_bucket",
        "levibot_model_errors_total",
        "levibot_fallback_events_total",
        "levibot_features_staleness_seconds",
        "levibot_model_ece",
        "levibot_feature_psi",
        "levibot_feature_ks_pvalue",
        "levibot_feature_drift_score",
        "levibot_active_model_info",
        "levibot_canary_check_estimate",
        "levibot_canary_check_verdict",
        "levibot_paper_pnl",
        "levibot_paper_sharpe",
        "levibot_paper_max_drawdown",
        "levibot_paper_win_rate",
        "levibot_circuit_breaker_tripped",
    ],
)
def test_dashboard_shows_what_the_issue_asks_for(metric: str) -> None:
    assert any(metric in q for q in all_queries(dashboard()))


def test_psi_is_shown_per_feature_and_canary_weight_per_track() -> None:
    queries = panel_queries(dashboard())
    assert "feature" in queries["PSI per feature"][0]
    score = queries["Drift score per feature and version"][0]
    assert all(label in score for label in ("feature", "statistic", "version"))
    assert "track" in queries["Canary traffic share (observed)"][0]


def test_every_queried_metric_is_in_the_contract_and_exported(exported: set[str]) -> None:
    used = {family(m) for q in all_queries(dashboard()) for m in METRIC.findall(q)}
    rules = {
        family(m)
        for r in alerts(rule_groups(render(sets=["prometheusRule.enabled=true"]))).values()
        for m in METRIC.findall(r["expr"])
    }
    assert used | rules <= contract_metrics(), (used | rules) - contract_metrics()
    assert used | rules <= exported, (used | rules) - exported


@pytest.mark.prometheus
def test_every_query_is_valid_promql(prometheus: PrometheusServer) -> None:
    for query in all_queries(dashboard()):
        # Grafana's label_values(selector, label): the selector must be valid PromQL.
        grafana = re.fullmatch(r"label_values\((.*), \w+\)", query)
        expr = grafana.group(1) if grafana else query
        for name, value in VARIABLES.items():
            expr = expr.replace(name, value)
        url = f"{prometheus.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                assert json.loads(resp.read())["status"] == "success", expr
        except urllib.error.HTTPError as err:
            raise AssertionError(f"{expr}: {err.read().decode()}") from err
