"""Predictor HPA and PDB manifests from spec.serving (core, pure)."""

import pytest

from levibot_operator.core.fields import SpecError
from levibot_operator.core.modeldeployment.scaling import (
    Autoscaling,
    build_anti_affinity,
    build_hpa,
    build_pdb,
    parse_autoscaling,
    parse_disruption_budget,
)

META = {"name": "btc-direction", "namespace": "prod"}


def test_cpu_autoscaling_targets_the_stable_deployment() -> None:
    scaling = parse_autoscaling(
        {"minReplicas": 2, "maxReplicas": 6, "targetCPUUtilizationPercentage": 70}, "p"
    )
    assert scaling == Autoscaling(2, 6, cpu_percent=70)
    hpa = build_hpa(META, "btc-direction-v1", scaling)
    assert hpa["spec"]["scaleTargetRef"]["name"] == "btc-direction-v1"
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70


def test_request_rate_autoscaling_uses_a_pods_metric() -> None:
    scaling = parse_autoscaling({"maxReplicas": 4, "targetRequestsPerSecond": 12.5}, "p")
    assert scaling is not None
    metric = build_hpa(META, "d", scaling)["spec"]["metrics"][0]
    assert metric["pods"]["target"] == {"type": "AverageValue", "averageValue": "12500m"}


@pytest.mark.parametrize(
    "obj",
    [
        {"minReplicas": 3, "maxReplicas": 2, "targetCPUUtilizationPercentage": 70},
        {"maxReplicas": 2},
        {"maxReplicas": 2, "targetCPUUtilizationPercentage": 70, "targetRequestsPerSecond": 5},
    ],
)
def test_bad_autoscaling_names_the_field(obj: dict[str, object]) -> None:
    with pytest.raises(SpecError, match=r"spec\.serving\.autoscaling"):
        parse_autoscaling(obj, "spec.serving.autoscaling")


def test_the_pdb_selects_every_predictor_pod() -> None:
    budget = parse_disruption_budget({"minAvailable": 1}, "p")
    assert budget is not None
    pdb = build_pdb(META, {"app": "x"}, budget)
    assert pdb["spec"] == {"selector": {"matchLabels": {"app": "x"}}, "minAvailable": 1}
    with pytest.raises(SpecError):
        parse_disruption_budget({"minAvailable": 1, "maxUnavailable": "50%"}, "p")


def test_anti_affinity_presets() -> None:
    required = build_anti_affinity("required", {"a": "b"})["podAntiAffinity"]
    assert "requiredDuringSchedulingIgnoredDuringExecution" in required
    preferred = build_anti_affinity("preferred", {"a": "b"})["podAntiAffinity"]
    assert preferred["preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"] == 100
