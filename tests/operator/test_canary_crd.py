"""The Canary CRD: structural, documented, printer columns; the example parses; the real
kube-apiserver accepts the example and rejects what the CEL rules forbid."""

import json
from typing import Any

import jsonschema
import pytest

from levibot_devstack.cluster import LocalCluster
from levibot_operator.core.canary.spec import SetWeightStep, parse_canary_spec
from levibot_operator.core.canary.status import Phase
from tests.operator.support.canary.crd import (
    example_with,
    install_canary_crd,
    load_crd,
    load_example,
    openapi_schema,
    walk_properties,
)


def test_every_field_has_a_description_and_a_type() -> None:
    for path, schema in walk_properties(openapi_schema()):
        if path == ".metadata":
            continue
        assert schema.get("description"), f"{path} has no description"
        assert schema.get("type"), f"{path} has no type"


def test_names_status_and_printer_columns() -> None:
    crd = load_crd()
    names = crd["spec"]["names"]
    assert (names["kind"], names["shortNames"], names["categories"]) == (
        "Canary",
        ["canary"],
        ["levibot"],
    )
    [version] = crd["spec"]["versions"]
    assert version["name"] == "v1alpha1"
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"] if "priority" not in c]
    assert columns == ["Target", "Stable", "Canary", "Weight", "Phase", "Age"]


def test_status_phases_match_the_machine() -> None:
    phase = openapi_schema()["properties"]["status"]["properties"]["phase"]
    assert phase["enum"] == [p.value for p in Phase]


def test_the_example_validates_and_parses() -> None:
    example = load_example()
    spec_schema = openapi_schema()["properties"]["spec"]
    jsonschema.validate(example["spec"], spec_schema)
    spec = parse_canary_spec(example["spec"])
    assert spec.target == "btc-direction"
    assert spec.candidate_version is None
    weights = [s.weight for s in spec.steps if isinstance(s, SetWeightStep)]
    assert weights == [10, 25, 50, 100]


def server_dry_run(kube: LocalCluster, namespace: str, body: dict[str, Any]) -> str:
    result = kube.kubectl(
        "-n", namespace, "create", "--dry-run=server", "-f", "-",
        input=json.dumps(body), check=False,
    )  # fmt: skip
    return result.stdout + result.stderr if result.returncode else ""


@pytest.mark.cluster
def test_the_server_accepts_the_example_and_enforces_the_rules(
    kube: LocalCluster, kube_namespace: str
) -> None:
    install_canary_crd(kube)
    assert server_dry_run(kube, kube_namespace, load_example()) == ""
    invalid: dict[str, dict[str, Any]] = {
        "setWeight must not decrease": {"steps": [{"setWeight": 50}, {"setWeight": 10}]},
        "exactly one of setWeight, pause, analysis": {
            "steps": [{"setWeight": 10, "pause": {"duration": "1m"}}]
        },
        "either duration or untilResumed": {"steps": [{"pause": {}}]},
        "either version or train": {"candidate": {"version": "v2", "train": True}},
        "failureLimit must be below count": {"analysis": {"count": 2, "failureLimit": 2}},
        "should be less than or equal to 100": {"steps": [{"setWeight": 101}]},
        "should be greater than or equal to 1": {"analysis": {"thresholds": {"minSamples": 0}}},
    }
    for message, spec in invalid.items():
        assert message in server_dry_run(kube, kube_namespace, example_with(**spec)), message


@pytest.mark.cluster
def test_defaults_are_applied_by_the_server(kube: LocalCluster, kube_namespace: str) -> None:
    install_canary_crd(kube)
    body = {
        "apiVersion": "levibot.io/v1alpha1",
        "kind": "Canary",
        "metadata": {"name": "minimal"},
        "spec": {
            "target": "btc-direction",
            "candidate": {"version": "v2"},
            "steps": [{"setWeight": 10}],
        },
    }
    result = kube.kubectl(
        "-n", kube_namespace, "create", "--dry-run=server", "-o", "json", "-f", "-",
        input=json.dumps(body),
    )  # fmt: skip
    spec = json.loads(result.stdout)["spec"]
    assert spec["analysis"]["count"] == 5
    assert spec["analysis"]["thresholds"]["minSamples"] == 100
    assert spec["progressDeadline"] == "10m"
    parsed = parse_canary_spec(spec)
    assert parsed.steps == (SetWeightStep(10),)
