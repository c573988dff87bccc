"""The API server refuses invalid ModelDeployments with a message naming the field, and
accepts the example; `kubectl explain` teaches the API."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from levibot_devstack.cluster import LocalCluster
from tests.operator.support.cluster import install_crd, load_example

pytestmark = pytest.mark.cluster


def mutate(path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(load_example())
    *parents, leaf = path.split(".")
    node = doc
    for key in parents:
        node = node[key]
    if value is None:
        del node[leaf]
    else:
        node[leaf] = value
    return doc


INVALID = [
    ("spec.model", None, "spec.model"),
    ("spec.model.type", "randomForest", "spec.model.type"),
    ("spec.model.calibration", "platt", "spec.model.calibration"),
    ("spec.serving.replicas", -1, "spec.serving.replicas"),
    ("spec.horizonSeconds", 0, "spec.horizonSeconds"),
    ("spec.horizonSeconds", 700000, "spec.horizonSeconds"),
    ("spec.features", ["ret_1m", "moon_phase"], "spec.features[1]"),
    ("spec.features", [], "spec.features"),
    ("spec.symbols", ["btc usdt"], "spec.symbols[0]"),
    ("spec.training.schedule", "every night", "spec.training.schedule"),
    ("spec.training.databaseSecretRef", None, "spec.training.databaseSecretRef"),
    ("spec.serving.sellThreshold", 0.7, "spec.serving.sellThreshold"),
    ("spec.serving.buyThreshold", 1.5, "spec.serving.buyThreshold"),
    ("spec.traffic.provider", "gatewayAPI", "spec.traffic.gatewayAPI"),
    ("spec.training.backoffLimit", -2, "spec.training.backoffLimit"),
    ("spec.killSwitch", "yes", "spec.killSwitch"),
    ("spec.circuitBreakers", {"winRate": {"minimum": 1.5}}, "spec.circuitBreakers.winRate.minimum"),
    ("spec.circuitBreakers", {"losingStreak": {"trades": 0}}, "spec.circuitBreakers.losingStreak"),
    ("metadata.name", "x" * 50, "metadata.name"),
]


@pytest.fixture
def crd(kube: LocalCluster) -> LocalCluster:
    install_crd(kube)
    return kube


@pytest.mark.parametrize(
    ("path", "value", "field"), INVALID, ids=[f"{p}={v}" for p, v, _ in INVALID]
)
def test_invalid_modeldeployment_is_refused_naming_the_field(
    crd: LocalCluster, kube_namespace: str, path: str, value: Any, field: str
) -> None:
    doc = mutate(path, value)
    out = crd.kubectl("-n", kube_namespace, "apply", "--dry-run=server", "-f", "-",
                      input=json.dumps(doc), check=False)  # fmt: skip
    assert out.returncode != 0
    assert field in out.stderr


def test_example_is_accepted_and_defaults_are_filled(
    crd: LocalCluster, kube_namespace: str
) -> None:
    doc = load_example()
    del doc["spec"]["serving"]
    out = crd.kubectl("-n", kube_namespace, "apply", "--dry-run=server", "-o", "json", "-f", "-",
                      input=json.dumps(doc))  # fmt: skip
    spec = json.loads(out.stdout)["spec"]
    assert spec["serving"]["replicas"] == 2
    assert spec["serving"]["buyThreshold"] == 0.55
    assert spec["traffic"]["provider"] == "replicas"
    assert "circuitBreakers" not in spec  # no breaker unless asked for


def test_kubectl_explain_describes_fields(crd: LocalCluster) -> None:
    out = crd.kubectl("explain", "md.spec.training.schedule").stdout
    assert "Cron schedule for periodic retraining" in out
