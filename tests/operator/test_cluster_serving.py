"""Issue 16 on the real local control plane (kube-apiserver, controller-manager with its HPA
controller, kwok) and PostgreSQL: the predictor serving settings (HPA, PDB, anti-affinity,
topology spread, nodeSelector, tolerations) and `kubectl levibot retry` end to end.

"The chart renders the HPA, PDB and spread for a ModelDeployment": the chart installs the CRDs
and the operator but does not template ModelDeployments; the operator builds these objects from
the ModelDeployment, so the proof is the operator's own manifests applied server-side (the API
server validates and stores them) after the CRD accepted the spec fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from levibot_devstack.cluster import LocalCluster
from levibot_devstack.services import PrometheusServer
from tests.operator.support.canary.cluster import (
    CANARY,
    MD,
    canary_doc,
    canary_state,
    feed,
    prepare_namespace,
    replicas_of,
    serve_v1,
    wait_phase,
)
from tests.operator.support.canary.exporter import PredictorMetrics, scrape_config, serve_metrics
from tests.operator.support.cluster import (
    OperatorProcess,
    apply_doc,
    get_json,
    load_example,
    register_version,
    registry_status,
    wait_for,
)
from tests.operator.support.plugin.cluster import run_plugin

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.slow]
PODS = {"levibot.io/modeldeployment": MD, "app.kubernetes.io/component": "predictor"}
SCALING = {
    "autoscaling": {"minReplicas": 3, "maxReplicas": 5, "targetCPUUtilizationPercentage": 70},
    "podDisruptionBudget": {"maxUnavailable": 1},
    "antiAffinity": "preferred",
    "topologySpreadConstraints": [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
        }
    ],
    "nodeSelector": {"type": "kwok"},  # every kwok node carries it
    "tolerations": [{"key": "levibot.io/predictors", "operator": "Exists", "effect": "NoSchedule"}],
}


@pytest.fixture
def operator(
    kube: LocalCluster, tmp_path: Path, prometheus: PrometheusServer
) -> Iterator[OperatorProcess]:
    proc = OperatorProcess(
        kube,
        tmp_path / "operator.log",
        LEVIBOT_OPERATOR_PROMETHEUS_URL=prometheus.url,
        LEVIBOT_OPERATOR_CANARY_RESYNC_SECONDS="1",
    ).start()
    yield proc
    proc.stop()


def replicas_owners(dep: dict[str, Any]) -> list[str]:
    """The field managers that own the Deployment's spec.replicas."""
    entries = dep["metadata"].get("managedFields") or []
    spec = [(e["manager"], (e.get("fieldsV1") or {}).get("f:spec") or {}) for e in entries]
    return [manager for manager, fields in spec if "f:replicas" in fields]


def pdb_status(kube: LocalCluster, ns: str) -> dict[str, Any]:
    return dict((get_json(kube, "-n", ns, "pdb", MD) or {}).get("status") or {})


@pytest.mark.prometheus
def test_serving_settings_make_an_hpa_a_pdb_and_placed_predictors(
    kube: LocalCluster, kube_namespace: str, pg_dsn: str, operator: OperatorProcess
) -> None:
    ns = kube_namespace
    prepare_namespace(kube, ns, pg_dsn)
    serving = {**load_example()["spec"]["serving"], **SCALING}
    serve_v1(kube, ns, pg_dsn, serving=serving)

    hpa = wait_for(lambda: get_json(kube, "-n", ns, "hpa", MD), what="the HPA")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": f"{MD}-v1"}  # fmt: skip
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 5)
    pdb = get_json(kube, "-n", ns, "pdb", MD)
    assert pdb["spec"]["selector"] == {"matchLabels": PODS}
    assert pdb["spec"]["maxUnavailable"] == 1
    pod = get_json(kube, "-n", ns, "deployment", f"{MD}-v1")["spec"]["template"]["spec"]
    spread = pod["topologySpreadConstraints"][0]
    assert (spread["topologyKey"], spread["labelSelector"]) == (
        "kubernetes.io/hostname",
        {"matchLabels": PODS},
    )
    assert "preferredDuringSchedulingIgnoredDuringExecution" in pod["affinity"]["podAntiAffinity"]
    assert (pod["nodeSelector"], pod["tolerations"]) == (
        SCALING["nodeSelector"],
        SCALING["tolerations"],
    )

    # The HPA raises the stable side to minReplicas and owns the field; the operator (resyncing)
    # never writes it back, and the PDB counts every predictor.
    def scaled() -> dict[str, Any] | None:
        dep = get_json(kube, "-n", ns, "deployment", f"{MD}-v1") or {}
        ready = (dep.get("status") or {}).get("readyReplicas") == 3
        return dep if dep["spec"]["replicas"] == 3 and ready else None

    dep = wait_for(scaled, timeout=90, what="the HPA scaled v1 to 3")
    assert "levibot-operator" not in replicas_owners(dep)
    wait_for(lambda: pdb_status(kube, ns).get("expectedPods") == 3, what="PDB counts 3 pods")

    # Settings removed: the operator deletes the HPA and the PDB and owns replicas again.
    remove = [
        {"op": "remove", "path": f"/spec/serving/{k}"}
        for k in ("autoscaling", "podDisruptionBudget")
    ]
    kube.kubectl("-n", ns, "patch", "md", MD, "--type=json", "-p", json.dumps(remove))
    wait_for(lambda: get_json(kube, "-n", ns, "hpa", MD) is None, what="HPA deleted")
    wait_for(lambda: get_json(kube, "-n", ns, "pdb", MD) is None, what="PDB deleted")
    wait_for(lambda: replicas_of(kube, ns, "v1") == 2, what="spec.serving.replicas again")


@pytest.mark.prometheus
def test_retry_starts_a_rolled_back_canary_afresh(
    kube: LocalCluster, kube_namespace: str, pg_dsn: str, operator: OperatorProcess,
    prometheus: PrometheusServer,
) -> None:  # fmt: skip
    ns = kube_namespace
    prepare_namespace(kube, ns, pg_dsn)
    serve_v1(kube, ns, pg_dsn)
    register_version(pg_dsn, f"{ns}.{MD}", "v2")
    with serve_metrics() as exporter:
        prometheus.reload(scrape_config(exporter.port, ns))
        try:  # feed() waits until Prometheus has the fed values (see canary/cluster.py)
            retry_after_rollback(kube, ns, pg_dsn, replace(exporter, prometheus_url=prometheus.url))
        except AssertionError:
            print(kube.kubectl("-n", ns, "get", "canary", "-o", "yaml").stdout[-5000:])
            print(operator.log_path.read_text()[-4000:])
            raise


def retry_after_rollback(kube: LocalCluster, ns: str, dsn: str, exporter: PredictorMetrics) -> None:
    feed(exporter, ece=0.12)  # the rollback-by-analysis scenario of test_cluster_canary.py
    apply_doc(kube, ns, canary_doc([{"setWeight": 25}, {"analysis": {}}, {"setWeight": 100}]))
    assert wait_phase(kube, ns, "RolledBack", "Succeeded")["phase"] == "RolledBack"
    wait_for(lambda: registry_status(dsn, f"{ns}.{MD}", "v2") == "rejected", what="rejected")

    feed(exporter)  # the candidate is fine now (say, the stable's data were at fault)
    out = run_plugin(kube, "retry", CANARY, "-n", ns)
    assert out.returncode == 0, out.stderr
    status = wait_phase(kube, ns, "Pending", "Progressing", "Paused", "Succeeded")
    assert status["handledRetry"]
    events = get_json(kube, "-n", ns, "events", "--field-selector", f"involvedObject.name={CANARY}")
    assert any(e["reason"] == "Retried" for e in events["items"])
    status = wait_phase(kube, ns, "Succeeded", "RolledBack")
    assert status["phase"] == "Succeeded", status
    assert canary_state(kube, ns)["history"]  # the first attempt is remembered
    assert wait_for(lambda: registry_status(dsn, f"{ns}.{MD}", "v2") == "active", what="active")
