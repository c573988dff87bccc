"""The Canary CRD's ``analysis.judgement`` and judged status: the schema agrees with the parser
and the core's verdicts; the real kube-apiserver accepts a full judgement and refuses bad fields."""

import json
from typing import Any

import jsonschema
import pytest

from levibot_devstack.cluster import LocalCluster
from levibot_operator.core.canary.analysis import Verdict
from levibot_operator.core.canary.judgement_spec import parse_judgement
from levibot_operator.core.canary.spec import AnalysisStep, parse_canary_spec
from tests.operator.support.canary.builders import FULL_JUDGEMENT
from tests.operator.support.canary.crd import example_with, install_canary_crd, openapi_schema

FULL = FULL_JUDGEMENT


def test_a_full_judgement_validates_and_parses() -> None:
    body = example_with(analysis={"judgement": FULL}, steps=[{"analysis": {"judgement": {}}}])
    jsonschema.validate(body["spec"], openapi_schema()["properties"]["spec"])
    step = parse_canary_spec(body["spec"]).steps[0]
    assert isinstance(step, AnalysisStep)
    assert step.analysis.judgement == parse_judgement(FULL, "j")


def test_the_check_verdicts_are_the_cores() -> None:
    checks = openapi_schema()["properties"]["status"]["properties"]["checks"]["items"]
    assert checks["properties"]["verdict"]["enum"] == [v.value for v in Verdict]


def dry_run(kube: LocalCluster, namespace: str, body: dict[str, Any]) -> str:
    result = kube.kubectl(
        "-n", namespace, "create", "--dry-run=server", "-f", "-",
        input=json.dumps(body), check=False,
    )  # fmt: skip
    return result.stdout + result.stderr if result.returncode else ""


@pytest.mark.cluster
def test_the_server_accepts_a_judgement_and_refuses_bad_fields(
    kube: LocalCluster, kube_namespace: str
) -> None:
    install_canary_crd(kube)
    assert dry_run(kube, kube_namespace, example_with(analysis={"judgement": FULL})) == ""
    refused = {
        "onDifferent": {"agreement": {"onDifferent": "ignore"}},
        "onInconclusive": {"onInconclusive": "retry"},
        "judgement.alpha": {"alpha": 0.9},
        "budget": {"budget": "721h"},
        "tolerance": {"nonInferiority": {"tolerance": -1}},
    }
    for field, judgement in refused.items():
        body = example_with(analysis={"judgement": judgement})
        assert field in dry_run(kube, kube_namespace, body), field
