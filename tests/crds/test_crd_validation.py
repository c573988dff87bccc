"""The API server refuses, with the field named, every ModelDeployment and Canary input that the
operator could only fail on later (issue 12, item 4), and still accepts every example.

Layer: contract tests against the real kube-apiserver, one server-side dry run per case (nothing
is stored). The rules live in crds/*.yaml; what only the operator can judge (a 30 February
schedule, shadow traffic with the replicas provider named on the ModelDeployment) is not here.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from levibot_devstack.cluster import LocalCluster
from tests.operator.support import cluster as operator_cluster
from tests.operator.support.canary import crd as canary_crd

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted([*ROOT.glob("examples/*.yaml"), *ROOT.glob("examples/demo/*.yaml")])
NAMESPACE = "default"
Case = tuple[str, str, Any, str]  # kind, dotted path, value, the field the refusal must name


@pytest.fixture(scope="module")
def crds(kube: LocalCluster) -> LocalCluster:
    """Both CRDs installed once for the module."""
    operator_cluster.install_crd(kube)
    canary_crd.install_canary_crd(kube)
    return kube


# The Canary cases name steps by index: they run on these steps, not the example's, which change.
CANARY_STEPS = [
    {"setWeight": 10},
    {"pause": {"duration": "5m"}},
    {"analysis": {}},
    {"setWeight": 25},
    {"analysis": {}},
]


def build_doc(kind: str, path: str, value: Any) -> dict[str, Any]:
    """The kind's example with ``value`` set at the dotted ``path`` (list indices as digits)."""
    load = operator_cluster.load_example if kind == "md" else canary_crd.load_example
    doc = copy.deepcopy(load())
    if kind == "canary":
        doc["spec"]["steps"] = copy.deepcopy(CANARY_STEPS)
    *parents, leaf = path.split(".")
    node: Any = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    node[leaf] = value
    return doc


def dry_run(kube: LocalCluster, doc: dict[str, Any]) -> tuple[int, str]:
    """Server-side dry-run create: the exit code and everything kubectl printed."""
    out = kube.kubectl("-n", NAMESPACE, "create", "--dry-run=server", "-f", "-",
                       input=json.dumps(doc), check=False)  # fmt: skip
    return out.returncode, out.stdout + out.stderr


CPU_LIMIT = "spec.training.resources.limits.cpu"
SCHEDULE = "spec.training.schedule"
LONG_VERSION = "v" + "1" * 12
QUANTITIES = {"requests": {"cpu": 1, "memory": "1G"}, "limits": {"cpu": "1.5", "memory": "1e9"}}

INVALID: list[Case] = [
    # Quantities the Job or Deployment would be refused with (only the operator log said 400).
    ("md", "spec.training.resources.limits.memory", "2GB", "spec.training.resources.limits.memory"),
    (
        "md",
        "spec.training.resources.requests.memory",
        "2GB",
        "spec.training.resources.requests.memory",
    ),
    ("md", "spec.training.resources.limits.cpu", "two", CPU_LIMIT),
    ("md", "spec.serving.resources.requests.cpu", "1 core", "spec.serving.resources.requests.cpu"),
    ("md", "spec.serving.resources.limits.memory", "512MB", "spec.serving.resources.limits.memory"),
    ("md", "spec.serving.resources.limits.memory", "-1Gi", "spec.serving.resources.limits[memory]"),
    ("md", "spec.training.resources.requests.cpu", -1, "spec.training.resources.requests[cpu]"),
    # Names every owned object derives from.
    ("md", "metadata.name", "m" * 41, "metadata.name"),
    ("md", "metadata.name", "1-direction", "metadata.name"),
    ("md", "metadata.name", "btc.direction", "metadata.name"),
    (
        "md",
        "spec.training.databaseSecretRef.name",
        "Levibot_DB",
        "spec.training.databaseSecretRef.name",
    ),
    ("md", "spec.training.databaseSecretRef.key", "a/b", "spec.training.databaseSecretRef.key"),
    ("md", "spec.traffic.gatewayAPI.routeName", "Route!", "spec.traffic.gatewayAPI.routeName"),
    # Cron fields out of range, or not five fields.
    ("md", SCHEDULE, "60 2 * * *", SCHEDULE),
    ("md", SCHEDULE, "0 24 * * *", SCHEDULE),
    ("md", SCHEDULE, "0 2 32 * *", SCHEDULE),
    ("md", SCHEDULE, "0 2 * 13 *", SCHEDULE),
    ("md", SCHEDULE, "0 2 * * 8", SCHEDULE),
    ("md", SCHEDULE, "a b c d e", SCHEDULE),
    ("md", SCHEDULE, "0 2 * * * *", SCHEDULE),
    ("md", SCHEDULE, "@reboot", SCHEDULE),
    # Counts.
    ("md", "spec.serving.replicas", -1, "spec.serving.replicas"),
    ("md", "spec.symbols", [], "spec.symbols"),
    ("md", "spec.training.envelope.retrains", 3, "spec.training.envelope.retrains"),
    ("md", "spec.training.envelope.retrains", 33, "spec.training.envelope.retrains"),
    # Candidate versions become Deployment, Service and Job names and a label value.
    ("canary", "spec.candidate", {"version": "V2"}, "spec.candidate.version"),
    ("canary", "spec.candidate", {"version": "v2.1"}, "spec.candidate.version"),
    ("canary", "spec.candidate", {"version": "v_2"}, "spec.candidate.version"),
    ("canary", "spec.candidate", {"version": LONG_VERSION}, "spec.candidate.version"),
    ("canary", "metadata.name", "c" * 70, "metadata.name"),
    ("canary", "spec.target", "BTC-direction", "spec.target"),
    ("canary", "spec.target", "t" * 41, "spec.target"),
    # Durations the operator's timedelta arithmetic would overflow on, or zero.
    ("canary", "spec.progressDeadline", "99999999999h", "spec.progressDeadline"),
    ("canary", "spec.progressDeadline", "721h", "spec.progressDeadline"),
    ("canary", "spec.progressDeadline", "0s", "spec.progressDeadline"),
    ("canary", "spec.analysis.interval", "43201m", "spec.analysis.interval"),
    ("canary", "spec.analysis.window", "2592001s", "spec.analysis.window"),
    ("canary", "spec.steps.1.pause.duration", "99999999999h", "spec.steps[1].pause.duration"),
    ("canary", "spec.steps.2.analysis.interval", "0ms", "spec.steps[2].analysis.interval"),
    ("canary", "spec.steps.2.analysis.window", "9999999999ms", "spec.steps[2].analysis.window"),
    # Weights and shares.
    ("canary", "spec.steps.0.setWeight", 101, "spec.steps[0].setWeight"),
    ("canary", "spec.steps.0.setWeight", -1, "spec.steps[0].setWeight"),
    ("canary", "spec.steps.3.setWeight", 5, "spec.steps"),
    ("canary", "spec.shadow.percent", 101, "spec.shadow.percent"),
]

VALID: list[Case] = [
    ("md", "metadata.name", "m" * 40, ""),
    ("md", "spec.training.resources", QUANTITIES, ""),
    ("md", "spec.serving.resources", {"requests": {"cpu": "250m"}, "limits": {"cpu": "0.5"}}, ""),
    ("md", SCHEDULE, "*/15 * * * *", ""),
    ("md", SCHEDULE, "0 9-17/2 * * 1-5", ""),
    ("md", SCHEDULE, "0 0 * jan,jul mon", ""),
    ("md", SCHEDULE, "30 3 L * sun", ""),
    ("md", SCHEDULE, "0 0 * * 5#3", ""),
    ("md", SCHEDULE, "@daily", ""),
    ("md", "spec.training.envelope", {"retrains": 4}, ""),
    ("md", "spec.training.envelope", {"retrains": 32}, ""),
    ("canary", "metadata.name", "c" * 63, ""),
    ("canary", "spec.candidate", {"version": "v" + "9" * 11}, ""),
    ("canary", "spec.candidate", {"version": "v3-rc1"}, ""),
    ("canary", "spec.target", "t" * 40, ""),
    ("canary", "spec.progressDeadline", "720h", ""),
    ("canary", "spec.analysis.interval", "43200m", ""),
    ("canary", "spec.analysis.window", "2592000s", ""),
    ("canary", "spec.steps.1.pause.duration", "1ms", ""),
]


def case_id(case: Case) -> str:
    kind, path, value, _ = case
    return f"{kind}:{path}={str(value)[:24]}"


@pytest.mark.parametrize("case", INVALID, ids=[case_id(c) for c in INVALID])
def test_invalid_input_is_refused_naming_the_field(crds: LocalCluster, case: Case) -> None:
    kind, path, value, field = case
    code, out = dry_run(crds, build_doc(kind, path, value))
    assert code != 0, f"accepted: {path}={value!r}"
    assert field in out, out


@pytest.mark.parametrize("case", VALID, ids=[case_id(c) for c in VALID])
def test_valid_input_at_the_bounds_is_accepted(crds: LocalCluster, case: Case) -> None:
    kind, path, value, _ = case
    code, out = dry_run(crds, build_doc(kind, path, value))
    assert code == 0, out


@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in EXAMPLES])
def test_every_example_is_accepted(crds: LocalCluster, path: Path) -> None:
    for doc in yaml.safe_load_all(path.read_text()):
        if doc:
            code, out = dry_run(crds, doc)
            assert code == 0, out


def test_kubectl_explain_states_the_bounds(crds: LocalCluster) -> None:
    explained = {
        "canary.spec.progressDeadline": "720h (30 days)",
        "canary.spec.candidate.version": "at most 12 characters",
        "md.spec.training.resources.limits": "not 2GB",
        "md.spec.training.schedule": "minute 0-59",
    }
    for field, text in explained.items():
        out = crds.kubectl("explain", field).stdout
        assert text in " ".join(out.split()), f"{field}: {out}"
