"""Cluster helpers for the chart tests: helm against the local control plane, RBAC checks,
the operator run with the chart's env and ServiceAccount,
a kubeconfig that authenticates as a ServiceAccount, stand-in Prometheus Operator CRDs.

Test support layer. The Prometheus Operator's CRDs are not available here, so
`monitoring_crds` defines the three kinds the chart renders with a schema for the fields the
chart sets (the rest is preserved): enough for the API server to accept or refuse the objects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from levibot_devstack.cluster import LocalCluster
from tests.chart.support.render import CHART, run_helm
from tests.operator.support.cluster import (
    apply_doc,
    get_json,
    load_example,
    register_version,
    wait_for,
)

PRESERVE = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
DURATION = (
    "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
)


def _crd(kind: str, plural: str, version: str, spec: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"spec": spec}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.monitoring.coreos.com"},
        "spec": {
            "group": "monitoring.coreos.com",
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "plural": plural,
                "singular": kind.lower(),
                "listKind": f"{kind}List",
            },
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def _rule_spec() -> dict[str, Any]:
    rule = {
        "type": "object",
        "required": ["expr"],
        "properties": {
            "alert": {"type": "string"},
            "record": {"type": "string"},
            "expr": {"x-kubernetes-int-or-string": True},
            "for": {
                "type": "string",
                "pattern": DURATION,
            },
            "labels": STRINGS,
            "annotations": STRINGS,
        },
    }
    group = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "interval": {"type": "string"},
            "rules": {"type": "array", "items": rule},
        },
    }
    return {"type": "object", "properties": {"groups": {"type": "array", "items": group}}}


def monitoring_crds() -> list[dict[str, Any]]:
    """Stand-ins for PrometheusRule, ServiceMonitor (v1) and AlertmanagerConfig (v1alpha1)."""
    monitor = {
        "type": "object",
        "required": ["selector", "endpoints"],
        "properties": {
            "selector": PRESERVE,
            "namespaceSelector": PRESERVE,
            "endpoints": {"type": "array", "items": PRESERVE},
        },
    }
    amconfig = {
        "type": "object",
        "properties": {"route": PRESERVE, "receivers": {"type": "array", "items": PRESERVE}},
    }
    return [
        _crd("PrometheusRule", "prometheusrules", "v1", _rule_spec()),
        _crd("ServiceMonitor", "servicemonitors", "v1", monitor),
        _crd("AlertmanagerConfig", "alertmanagerconfigs", "v1alpha1", amconfig),
    ]


def install_monitoring_crds(kube: LocalCluster) -> None:
    doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": monitoring_crds()})
    kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=doc)
    for crd in monitoring_crds():
        kube.kubectl(
            "wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}", "--timeout=60s"
        )


def ensure_namespace(kube: LocalCluster, name: str) -> None:
    doc = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    kube.kubectl("apply", "-f", "-", input=json.dumps(doc))


def helm(kube: LocalCluster, *args: str, check: bool = True) -> str:
    """helm against the local cluster; returns stdout."""
    return run_helm(*args, kubeconfig=kube.kubeconfig, check=check).stdout


def install_args(release: str, namespace: str, *extra: str) -> list[str]:
    return [release, str(CHART), "--namespace", namespace, "--wait", "--timeout", "180s", *extra]


def can_i(
    kube: LocalCluster,
    user: str,
    verb: str,
    resource: str,
    namespace: str | None,
    *,
    name: str = "",
) -> bool:
    """Whether `user` may `verb` the resource ("plural.group[/subresource]"): a
    SubjectAccessReview, as `kubectl auth can-i --as` sends, but without the discovery that
    kubectl needs (HTTPRoutes may not be served here)."""
    kind, _, sub = resource.partition("/")
    plural, _, group = kind.partition(".")
    groups = ["system:authenticated"]
    if user.startswith("system:serviceaccount:"):
        groups += ["system:serviceaccounts", f"system:serviceaccounts:{user.split(':')[2]}"]
    attrs = {"verb": verb, "group": group, "resource": plural, "subresource": sub, "name": name}
    if namespace:
        attrs["namespace"] = namespace
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {"user": user, "groups": groups, "resourceAttributes": attrs},
    }
    out = kube.kubectl("create", "-o", "json", "-f", "-", input=json.dumps(review))
    return bool(json.loads(out.stdout)["status"].get("allowed"))


def serviceaccount_kubeconfig(kube: LocalCluster, namespace: str, name: str, path: Path) -> Path:
    """A kubeconfig that authenticates with a fresh token of the ServiceAccount (TokenRequest)."""
    token = kube.kubectl(
        "create", "token", name, "--namespace", namespace, "--duration", "1h"
    ).stdout.strip()
    admin = yaml.safe_load(kube.kubeconfig.read_text())
    admin["users"] = [{"name": "sa", "user": {"token": token}}]
    for context in admin["contexts"]:
        context["context"]["user"] = "sa"
    path.write_text(yaml.safe_dump(admin))
    return path


def chart_operator_env(kube: LocalCluster, release_ns: str, tmp_path: Path) -> dict[str, str]:
    """The installed Deployment's env, with a token of the chart's ServiceAccount as identity."""
    deployment = get_json(kube, "-n", release_ns, "deployment", "e2e-levibot-operator")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    (tmp_path / "token").write_text("not-used")
    kubeconfig = tmp_path / "kubeconfig"
    serviceaccount_kubeconfig(kube, release_ns, "e2e-levibot-operator", kubeconfig)
    return env | {
        "LEVIBOT_OPERATOR_IDENTITY": "e2e-test",
        "LEVIBOT_OPERATOR_RESYNC_SECONDS": "2",
        "LEVIBOT_OPERATOR_WEBHOOK_TOKEN_FILE": str(tmp_path / "token"),
        "KUBECONFIG": str(kubeconfig),
    }


def md_phase(kube: LocalCluster, ns: str) -> str | None:
    body = get_json(kube, "-n", ns, "md", "btc-direction") or {}
    return (body.get("status") or {}).get("phase")


def lease_holder(kube: LocalCluster, ns: str) -> str | None:
    lease = get_json(kube, "-n", ns, "lease", "e2e-levibot-operator") or {}
    return (lease.get("spec") or {}).get("holderIdentity")


def run_example(kube: LocalCluster, md_ns: str, pg_dsn: str) -> None:
    """Apply the example, act as the trainer, wait until the ModelDeployment is Ready."""
    apply_doc(kube, md_ns, load_example())
    wait_for(lambda: get_json(kube, "-n", md_ns, "job", "btc-direction-train-v1-1"), what="Job")
    register_version(pg_dsn, f"{md_ns}.btc-direction", "v1")
    wait_for(lambda: md_phase(kube, md_ns) == "Ready", timeout=300, what="Ready")
