"""The chart's drift alert (issue 14): the calibrated score above 1, with the `for` that the
trainer's calibration assumes, at production's time scale and at the demo's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.chart.support.render import CHART, alerts, render, rule_groups

ROOT = CHART.parents[1]
LOCAL_VALUES = ROOT / "hack" / "local-values.yaml"
DEMO_MD = ROOT / "examples" / "demo" / "modeldeployment.yaml"
CRD = ROOT / "crds" / "modeldeployment.yaml"
ON = ["prometheusRule.enabled=true"]
UNITS = {"s": 1, "m": 60, "h": 3600}


def seconds(duration: str) -> int:
    return sum(int(n) * UNITS[u] for n, u in re.findall(r"(\d+)([smh])", duration))


def drift_alerts(values: list[Path]) -> dict[str, dict[str, Any]]:
    found = alerts(rule_groups(render(values=values, sets=ON)))
    return {name: rule for name, rule in found.items() if name.startswith("LevibotFeatureDrift")}


def crd_monitoring_default(key: str) -> Any:
    crd = yaml.safe_load(CRD.read_text())
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return spec["properties"]["serving"]["properties"]["monitoring"]["properties"][key]["default"]


def test_production_drift_alert_is_the_score_above_one_for_the_calibrated_persistence() -> None:
    rules = drift_alerts([])
    assert set(rules) == {"LevibotFeatureDriftScore"}  # the fixed PSI/KS alerts are off
    rule = rules["LevibotFeatureDriftScore"]
    assert "(levibot_feature_drift_score) > 1" in rule["expr"]
    assert "by (namespace, model, version, track, feature, statistic)" in rule["expr"]
    assert '"modeldeployment", "$1", "model"' in rule["expr"]  # the webhook routes by it
    assert seconds(rule["for"]) == crd_monitoring_default("driftAlertForSeconds") == 300


def test_demo_drift_alert_is_the_same_rule_at_the_demo_time_scale() -> None:
    rules = drift_alerts([LOCAL_VALUES])
    assert set(rules) == {"LevibotFeatureDriftScore"}  # no PSI 4 any more
    production = drift_alerts([])["LevibotFeatureDriftScore"]
    assert rules["LevibotFeatureDriftScore"]["expr"] == production["expr"]
    monitoring = yaml.safe_load(DEMO_MD.read_text())["spec"]["serving"]["monitoring"]
    assert seconds(rules["LevibotFeatureDriftScore"]["for"]) == monitoring["driftAlertForSeconds"]
