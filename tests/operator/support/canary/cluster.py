"""Helpers for the canary cluster tests: a ModelDeployment serving v1, a registered candidate,
the synthetic exporter's per-version series, webhook posts and state probes.

Used by tests/operator/test_cluster_canary.py and bench/canary_alert_latency.py.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from typing import Any

from levibot_devstack.cluster import LocalCluster
from tests.operator.support.canary.alerts import alert, payload, post_payload
from tests.operator.support.canary.crd import install_canary_crd
from tests.operator.support.canary.exporter import PredictorMetrics
from tests.operator.support.cluster import (
    apply_doc,
    apply_schema,
    create_db_secret,
    get_json,
    install_crd,
    load_example,
    register_version,
    wait_for,
)

MD = "btc-direction"
CANARY = "btc-next"
THRESHOLDS = {"minSamples": 100, "eceMax": 0.06, "psiMax": 0.2}


# Gateway API is not installed on the local control plane: a stand-in HTTPRoute CRD (same group,
# version and names; schema left open) so that the routes the operator writes are stored as is.
HTTPROUTE_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {
        "name": "httproutes.gateway.networking.k8s.io",
        # *.k8s.io groups need this annotation (the real CRDs carry it too).
        "annotations": {
            "api-approved.kubernetes.io": "https://github.com/kubernetes-sigs/gateway-api/pull/1538"
        },
    },
    "spec": {
        "group": "gateway.networking.k8s.io",
        "scope": "Namespaced",
        "names": {"kind": "HTTPRoute", "plural": "httproutes", "singular": "httproute"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            }
        ],
    },
}


def install_httproute_crd(kube: LocalCluster) -> None:
    out = kube.kubectl(
        "apply", "--server-side", "-f", "-", input=json.dumps(HTTPROUTE_CRD), check=False
    )
    assert out.returncode == 0, out.stderr
    crd = "crd/httproutes.gateway.networking.k8s.io"
    kube.kubectl("wait", "--for=condition=Established", crd, "--timeout=60s")


def route_weights(kube: LocalCluster, ns: str) -> dict[str, int]:
    """Service name → weight of the route's first rule."""
    route = get_json(kube, "-n", ns, "httproute", MD) or {}
    rules = (route.get("spec") or {}).get("rules") or [{}]
    return {r["name"]: int(r.get("weight", 1)) for r in rules[0].get("backendRefs") or []}


def prepare_namespace(kube: LocalCluster, ns: str, dsn: str) -> None:
    """Both CRDs, the registry schema and the DSN Secret."""
    install_crd(kube)
    install_canary_crd(kube)
    apply_schema(dsn)
    create_db_secret(kube, ns, dsn)


def serve_v1(kube: LocalCluster, ns: str, dsn: str, **spec: Any) -> None:
    """The example ModelDeployment trained (we act as the trainer) and Ready on v1."""
    body = load_example()
    body["spec"].update(spec)
    apply_doc(kube, ns, body)
    job = f"{MD}-train-v1-1"
    wait_for(lambda: get_json(kube, "-n", ns, "job", job), what=f"job {job}")
    register_version(dsn, f"{ns}.{MD}", "v1")

    def ready() -> bool:
        status = (get_json(kube, "-n", ns, "md", MD) or {}).get("status") or {}
        return status.get("phase") == "Ready" and status.get("stableVersion") == "v1"

    wait_for(ready, timeout=180, what=f"{MD} Ready on v1")


def canary_doc(steps: list[dict[str, Any]], **analysis: Any) -> dict[str, Any]:
    """A Canary of candidate v2 with fast analysis (every 2 s, twice)."""
    return {
        "apiVersion": "levibot.io/v1alpha1",
        "kind": "Canary",
        "metadata": {"name": CANARY},
        "spec": {
            "target": MD,
            "candidate": {"version": "v2"},
            "progressDeadline": "2m",
            "analysis": {
                "interval": "2s",
                "count": 2,
                "failureLimit": 0,
                "inconclusiveLimit": 0,
                "window": "30s",
                "thresholds": THRESHOLDS,
                **analysis,
            },
            "steps": steps,
        },
    }


def feed(metrics: PredictorMetrics, *, ece: float = 0.03, samples: int = 500) -> None:
    """The candidate's (v2, canary) and the stable's (v1, stable) quality series; with a
    ``prometheus_url``, returns once Prometheus has scraped them (a candidate on kwok is
    available within a second, often before the next scrape)."""
    for version, track, value in (("v2", "canary", ece), ("v1", "stable", 0.03)):
        metrics.resolved.labels(MD, version, track).set(samples)
        metrics.ece.labels(MD, version, track).set(value)
        metrics.psi.labels(MD, version, track, "ret_1m").set(0.05)
        metrics.ks.labels(MD, version, track, "ret_1m").set(0.6)
    if metrics.prometheus_url:
        wait_for(lambda: scraped(metrics.prometheus_url, samples, ece), what="series scraped")


def scraped(url: str, samples: int, ece: float) -> bool:
    """Whether Prometheus answers the candidate's fed samples and ECE."""
    values = []
    for metric in ("levibot_resolved_predictions", "levibot_model_ece"):
        query = urllib.parse.urlencode({"query": f'{metric}{{version="v2",track="canary"}}'})
        with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=5) as response:
            result = json.load(response)["data"]["result"]
        values.append(float(result[0]["value"][1]) if result else None)
    return values == [float(samples), ece]


def canary(kube: LocalCluster, ns: str) -> dict[str, Any]:
    return dict(get_json(kube, "-n", ns, "canary", CANARY) or {})


def canary_state(kube: LocalCluster, ns: str) -> dict[str, Any]:
    return dict(canary(kube, ns).get("status") or {})


def replicas_of(kube: LocalCluster, ns: str, version: str) -> int | None:
    dep = get_json(kube, "-n", ns, "deployment", f"{MD}-{version}")
    return None if dep is None else int(dep["spec"].get("replicas", 0))


def wait_phase(kube: LocalCluster, ns: str, *phases: str, timeout: float = 120) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        status = canary_state(kube, ns)
        return status if status.get("phase") in phases else None

    return wait_for(reached, timeout=timeout, what=f"canary phase in {phases}")


def post_alert(url: str, token: str, version: str = "v2", ns: str = "") -> tuple[int, float]:
    """POST one firing alert for the candidate; (HTTP status, seconds until the answer)."""
    body = payload(
        alert(
            version=version,
            namespace=ns,
            alertname="LevibotErrorRateHigh",
            fingerprint=f"fp-{time.time_ns()}",
        )
    )
    started = time.perf_counter()
    code = post_payload(f"{url}/alerts", token, body)
    return code, time.perf_counter() - started
