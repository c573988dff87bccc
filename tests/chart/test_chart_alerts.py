"""The chart's alert rules and Alertmanager example, checked by promtool and amtool."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart.support.promtool import SEED_CASES, AlertCase, build_promtool_tests
from tests.chart.support.render import FULL_VALUES, alerts, find, one, render, rule_groups

WEBHOOK_LABELS = {"namespace", "modeldeployment", "version", "severity"}


@pytest.fixture(scope="module")
def full_objects() -> list[dict[str, Any]]:
    return render(values=[FULL_VALUES])


def write_rules(tmp_path: Path, groups: dict[str, Any]) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(groups, sort_keys=False))
    return path


def promtool_test(
    tmp_path: Path, groups: dict[str, Any], cases: list[AlertCase]
) -> subprocess.CompletedProcess[str]:
    write_rules(tmp_path, groups)
    test_file = tmp_path / "rules_test.yaml"
    test_file.write_text(yaml.safe_dump(build_promtool_tests("rules.yaml", cases)))
    return subprocess.run(
        ["promtool", "test", "rules", str(test_file)], capture_output=True, text=True, check=False
    )


def test_rendered_rules_pass_promtool_check(tmp_path: Path, full_objects: list[Any]) -> None:
    path = write_rules(tmp_path, rule_groups(full_objects))
    out = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(SEED_CASES)} rules found" in out.stdout


def test_every_alert_has_a_promtool_case(full_objects: list[Any]) -> None:
    assert set(alerts(rule_groups(full_objects))) == {case.alert for case in SEED_CASES}


def test_every_alert_fires_past_the_seed_threshold_and_not_at_it(
    tmp_path: Path, full_objects: list[Any]
) -> None:
    out = promtool_test(tmp_path, rule_groups(full_objects), SEED_CASES)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


def test_a_threshold_from_values_moves_the_alert(tmp_path: Path) -> None:
    groups = rule_groups(
        render(values=[FULL_VALUES], sets=["prometheusRule.rules.eceCritical.threshold=0.07"])
    )
    assert "(levibot_model_ece) > 0.07" in alerts(groups)["LevibotCalibrationECECritical"]["expr"]
    ece = [c for c in SEED_CASES if c.alert == "LevibotCalibrationECECritical"]
    out = promtool_test(tmp_path, groups, ece)
    assert out.returncode != 0  # 0.061 no longer fires: promtool reports the missing alert
    assert "LevibotCalibrationECECritical" in out.stdout + out.stderr


def test_ece_alerts_wait_for_enough_resolved_predictions(
    tmp_path: Path, full_objects: list[Any]
) -> None:
    few = AlertCase(
        "LevibotCalibrationECECritical",
        "critical",
        7,
        {"levibot_model_ece": "0.2x40", "levibot_resolved_predictions": "99x40"},
        {},
        "",
        "",
    )
    out = promtool_test(tmp_path, rule_groups(full_objects), [few])
    assert out.returncode != 0
    assert "got:[]" in out.stdout.replace(" ", "") + out.stderr.replace(" ", "")


def test_alerts_carry_the_labels_the_webhook_reads(full_objects: list[Any]) -> None:
    for name, rule in alerts(rule_groups(full_objects)).items():
        assert '"modeldeployment", "$1", "model", "(.*)"' in rule["expr"], name
        assert "severity" in rule["labels"], name
        assert "by (namespace, model, version, track" in rule["expr"], name
    case_labels = {
        k
        for c in SEED_CASES
        for k in build_promtool_tests("r", [c])["tests"][0]["alert_rule_test"][0]["exp_alerts"][0][
            "exp_labels"
        ]
    }
    assert case_labels >= WEBHOOK_LABELS


def test_disabled_alert_is_not_rendered() -> None:
    groups = rule_groups(
        render(values=[FULL_VALUES], sets=["prometheusRule.rules.tickRate.enabled=false"])
    )
    assert "LevibotTickRateLow" not in alerts(groups)
    assert "LevibotDataStaleWarning" in alerts(groups)


def test_rule_file_configmap_equals_the_prometheusrule(full_objects: list[Any]) -> None:
    cm = one(full_objects, "ConfigMap", "levibot-alert-rules")
    assert yaml.safe_load(cm["data"]["levibot-rules.yaml"]) == rule_groups(full_objects)


def test_prometheusrule_follows_the_api_when_auto() -> None:
    assert not find(render(), "PrometheusRule")
    assert find(render(api_versions=["monitoring.coreos.com/v1/PrometheusRule"]), "PrometheusRule")


def test_alertmanager_example_is_a_valid_config(tmp_path: Path, full_objects: list[Any]) -> None:
    cm = one(full_objects, "ConfigMap", "levibot-alertmanager-example")
    path = tmp_path / "alertmanager.yml"
    path.write_text(cm["data"]["alertmanager.yml"])
    out = subprocess.run(
        ["amtool", "check-config", str(path)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    hook = yaml.safe_load(path.read_text())["receivers"][1]["webhook_configs"][0]
    assert hook["url"] == "http://levibot-webhook.levibot-system.svc:9443/alerts"
    assert hook["http_config"]["authorization"]["type"] == "Bearer"
