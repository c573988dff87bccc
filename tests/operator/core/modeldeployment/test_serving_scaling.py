"""spec.serving autoscaling, podDisruptionBudget and placement, through the parser, the predictor
pod template and decide_modeldeployment (core, pure)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from levibot_operator import constants as c
from levibot_operator.core.fields import SpecError
from levibot_operator.core.intents import ApplyObject, DeleteObject, Intent
from levibot_operator.core.modeldeployment.observation import parse_deployment
from levibot_operator.core.modeldeployment.planning import decide_modeldeployment
from levibot_operator.core.modeldeployment.spec import parse_modeldeployment
from levibot_operator.core.modeldeployment.status import MDStatus
from levibot_operator.core.modeldeployment.workloads import build_predictor_deployment
from levibot_operator.settings import OperatorSettings
from tests.operator.support.fakes import md_body, ready_deployment, snapshot

SETTINGS = OperatorSettings().build_core_settings()
SCALING = {
    "autoscaling": {"minReplicas": 2, "maxReplicas": 6, "targetCPUUtilizationPercentage": 70},
    "podDisruptionBudget": {"minAvailable": 1},
}
PLACEMENT = {
    "antiAffinity": "preferred",
    "topologySpreadConstraints": [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "ScheduleAnyway",
        }
    ],
    "nodeSelector": {"levibot.io/pool": "predictors"},
    "tolerations": [
        {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}
    ],
}
PODS = {c.LABEL_MODELDEPLOYMENT: "btc-direction", c.LABEL_COMPONENT: c.COMPONENT_PREDICTOR}


def body(**serving: Any) -> dict[str, Any]:
    base = md_body()
    return md_body(serving={**base["spec"].get("serving", {}), **serving})


def serving_intents(extra: dict[str, Any], **snap: Any) -> list[Intent]:
    status = MDStatus(stable_version="v1")
    deps = snap.pop("deployments", (ready_deployment("v1"),))
    plan = decide_modeldeployment(
        snapshot(status, body=body(**extra), deployments=deps, **snap), SETTINGS
    )
    return list(plan.intents)


def applied(intents: list[Intent], kind: str) -> list[dict[str, Any]]:
    return [
        i.manifest for i in intents if isinstance(i, ApplyObject) and i.manifest["kind"] == kind
    ]


def test_without_the_settings_nothing_changes() -> None:
    intents = serving_intents({})
    assert not applied(intents, "HorizontalPodAutoscaler") + applied(intents, "PodDisruptionBudget")
    (dep,) = applied(intents, "Deployment")
    assert dep["spec"]["replicas"] == 2
    assert not {"affinity", "nodeSelector", "tolerations"} & dep["spec"]["template"]["spec"].keys()


def test_autoscaling_leaves_replicas_to_the_hpa_and_a_pdb_covers_every_predictor() -> None:
    intents = serving_intents(SCALING)
    (dep,) = applied(intents, "Deployment")
    assert "replicas" not in dep["spec"]
    (hpa,) = applied(intents, "HorizontalPodAutoscaler")
    assert hpa["metadata"]["name"] == "btc-direction"
    assert hpa["spec"]["scaleTargetRef"]["name"] == "btc-direction-v1"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    (pdb,) = applied(intents, "PodDisruptionBudget")
    assert pdb["spec"] == {"selector": {"matchLabels": PODS}, "minAvailable": 1}
    assert pdb["metadata"]["ownerReferences"][0]["kind"] == "ModelDeployment"


def test_removed_settings_delete_what_they_left_behind() -> None:
    found = frozenset({"HorizontalPodAutoscaler", "PodDisruptionBudget"})
    intents = serving_intents({}, scaling_found=found)
    assert DeleteObject("autoscaling/v2", "HorizontalPodAutoscaler", "btc-direction") in intents
    assert DeleteObject("policy/v1", "PodDisruptionBudget", "btc-direction") in intents
    assert not any(
        isinstance(i, DeleteObject) for i in serving_intents(SCALING, scaling_found=found)
    )


def test_replicas_are_handed_over_before_the_operator_stops_applying_them() -> None:
    owned = replace(ready_deployment("v1", replicas=4), replicas_applied=True)
    intents = serving_intents(SCALING, deployments=(owned,))
    handover = [i for i in intents if isinstance(i, ApplyObject) and i.field_manager]
    assert handover == [
        ApplyObject(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "btc-direction-v1", "namespace": "prod"},
                "spec": {"replicas": 4},
            },
            c.FIELD_MANAGER_HANDOVER,
        )
    ]
    assert intents.index(handover[0]) < intents.index(applied_intent(intents, "Deployment"))
    assert not [
        i for i in serving_intents(SCALING) if isinstance(i, ApplyObject) and i.field_manager
    ]


def applied_intent(intents: list[Intent], kind: str) -> Intent:
    return next(
        i
        for i in intents
        if isinstance(i, ApplyObject) and i.manifest["kind"] == kind and not i.field_manager
    )


def test_placement_goes_into_the_pod_template_of_either_track() -> None:
    md = parse_modeldeployment(body(**PLACEMENT))
    for track in (c.TRACK_STABLE, c.TRACK_CANARY):
        pod = build_predictor_deployment(md, "v2", track, 1, SETTINGS)["spec"]["template"]["spec"]
        term = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
        assert term[0]["podAffinityTerm"]["labelSelector"] == {"matchLabels": PODS}
        (spread,) = pod["topologySpreadConstraints"]
        assert spread["labelSelector"] == {"matchLabels": PODS}  # defaulted: every version
        assert spread["topologyKey"] == "topology.kubernetes.io/zone"
        assert pod["nodeSelector"] == {"levibot.io/pool": "predictors"}
        assert pod["tolerations"][0]["key"] == "dedicated"


def test_an_explicit_affinity_replaces_the_preset() -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}}
    md = parse_modeldeployment(body(antiAffinity="required", affinity=affinity))
    pod = build_predictor_deployment(md, "v1", c.TRACK_STABLE, 1, SETTINGS)["spec"]["template"]
    assert pod["spec"]["affinity"] == affinity


@pytest.mark.parametrize(
    ("serving", "field"),
    [
        ({"autoscaling": {"maxReplicas": 2}}, "spec.serving.autoscaling"),
        (
            {"autoscaling": {"minReplicas": 3, "maxReplicas": 2, "targetRequestsPerSecond": 5}},
            "spec.serving.autoscaling.maxReplicas",
        ),
        ({"podDisruptionBudget": {}}, "spec.serving.podDisruptionBudget"),
        ({"antiAffinity": "sometimes"}, "spec.serving.antiAffinity"),
        ({"tolerations": ["dedicated"]}, "spec.serving.tolerations[0]"),
        ({"nodeSelector": {"pool": 1}}, "spec.serving.nodeSelector"),
    ],
)
def test_bad_settings_name_their_field(serving: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as error:
        parse_modeldeployment(body(**serving))
    assert error.value.field == field


def test_the_operators_ownership_of_replicas_is_read_from_managed_fields() -> None:
    def dep(manager: str, fields: dict[str, Any]) -> dict[str, Any]:
        entry = {"manager": manager, "operation": "Apply", "fieldsV1": {"f:spec": fields}}
        meta = {"name": "btc-direction-v1", "managedFields": [entry]}
        return {"metadata": meta, "spec": {"replicas": 3}}

    assert parse_deployment(dep(c.FIELD_MANAGER, {"f:replicas": {}})).replicas_applied
    assert not parse_deployment(dep(c.FIELD_MANAGER, {"f:template": {}})).replicas_applied
    assert not parse_deployment(dep("kube-controller-manager", {"f:replicas": {}})).replicas_applied
