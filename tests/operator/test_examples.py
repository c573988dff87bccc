"""Every manifest in examples/ (the production ones and the demo's) is one the operator parses
and the real API server accepts, so the README's `kubectl apply -f examples/...` always works."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from levibot_devstack.cluster import LocalCluster
from levibot_operator.core.canary.spec import parse_canary_spec
from levibot_operator.core.canary.template import parse_checked_modeldeployment
from tests.operator.support.canary.crd import install_canary_crd
from tests.operator.support.cluster import install_crd

ROOT = Path(__file__).resolve().parents[2] / "examples"
EXAMPLES = sorted(ROOT.rglob("*.yaml"))
IDS = [str(p.relative_to(ROOT)) for p in EXAMPLES]


def load(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()))


def test_there_are_production_and_demo_examples() -> None:
    assert {p.name for p in EXAMPLES} >= {"modeldeployment.yaml", "canary.yaml"}
    assert len([p for p in EXAMPLES if p.parent.name == "demo"]) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_the_operator_parses_the_example(path: Path) -> None:
    doc = load(path)
    if doc["kind"] == "ModelDeployment":
        assert parse_checked_modeldeployment(doc).name == doc["metadata"]["name"]
    else:
        assert doc["kind"] == "Canary"
        assert parse_canary_spec(doc["spec"]).target == "btc-direction"


@pytest.mark.cluster
def test_the_api_server_accepts_every_example(kube: LocalCluster, kube_namespace: str) -> None:
    install_crd(kube)
    install_canary_crd(kube)
    for path in EXAMPLES:
        out = kube.kubectl("-n", kube_namespace, "create", "--dry-run=server", "-f", "-",
                           input=json.dumps(load(path)), check=False)  # fmt: skip
        assert out.returncode == 0, f"{path.name}: {out.stderr}"
