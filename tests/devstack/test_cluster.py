"""The local control plane is a real Kubernetes: the server, the controller
manager, the scheduler and kwok's fake kubelet all do their part."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from levibot_devstack.cluster import LocalCluster

pytestmark = pytest.mark.cluster


def _get(kube: LocalCluster, *args: str) -> Any:
    return json.loads(kube.kubectl("get", *args, "-o", "json").stdout)


def _wait_for(kube: LocalCluster, *args: str, timeout: int = 180) -> None:
    kube.kubectl("wait", *args, f"--timeout={timeout}s", timeout=timeout + 10)


def test_server_reports_v1_32(kube: LocalCluster) -> None:
    version = json.loads(kube.kubectl("version", "-o", "json").stdout)["serverVersion"]
    assert version["gitVersion"].startswith("v1.32.")
    assert (version["major"], version["minor"]) == ("1", "32")


def test_nodes_are_kwok_and_ready(kube: LocalCluster) -> None:
    nodes = _get(kube, "nodes")["items"]
    assert len(nodes) >= 1
    for node in nodes:
        assert node["metadata"]["annotations"]["kwok.x-k8s.io/node"] == "fake"
        ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
        assert ready == "True"


def test_deployment_gets_replicaset_and_ready_pods(kube: LocalCluster, kube_namespace: str) -> None:
    ns = kube_namespace
    kube.kubectl("-n", ns, "create", "deployment", "web", "--image=nginx", "--replicas=3")
    _wait_for(kube, "-n", ns, "--for=condition=Available", "deployment/web")
    replicasets = _get(kube, "-n", ns, "replicasets")["items"]
    assert [rs["metadata"]["ownerReferences"][0]["name"] for rs in replicasets] == ["web"]
    pods = _get(kube, "-n", ns, "pods")["items"]
    assert len(pods) == 3
    for pod in pods:
        assert pod["spec"]["nodeName"].startswith("kwok-node-")  # placed by the scheduler
        assert pod["status"]["phase"] == "Running"
        assert pod["status"]["podIP"]


def test_job_pod_completes_and_job_reports_complete(
    kube: LocalCluster, kube_namespace: str
) -> None:
    ns = kube_namespace
    kube.kubectl("-n", ns, "create", "job", "once", "--image=busybox", "--", "true")
    _wait_for(kube, "-n", ns, "--for=condition=Complete", "job/once")
    job = _get(kube, "-n", ns, "job", "once")
    assert job["status"]["succeeded"] == 1
    pods = _get(kube, "-n", ns, "pods", "-l", "job-name=once")["items"]
    assert [p["status"]["phase"] for p in pods] == ["Succeeded"]


def test_deleting_owner_garbage_collects_dependents(
    kube: LocalCluster, kube_namespace: str
) -> None:
    ns = kube_namespace
    kube.kubectl("-n", ns, "create", "configmap", "owner")
    uid = _get(kube, "-n", ns, "configmap", "owner")["metadata"]["uid"]
    dependent = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "dependent",
            "namespace": ns,
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}
            ],
        },
    }
    kube.kubectl("apply", "-f", "-", input=json.dumps(dependent))
    kube.kubectl("-n", ns, "delete", "configmap", "owner")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if kube.kubectl("-n", ns, "get", "configmap", "dependent", check=False).returncode:
            return
        time.sleep(0.2)
    pytest.fail("the garbage collector left the dependent ConfigMap behind")


def test_invalid_object_is_refused_with_the_servers_message(
    kube: LocalCluster, kube_namespace: str
) -> None:
    bad = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "bad", "namespace": kube_namespace},
        "spec": {
            "replicas": -1,
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    }
    out = kube.kubectl("apply", "-f", "-", input=json.dumps(bad), check=False)
    assert out.returncode != 0
    assert 'The Deployment "bad" is invalid' in out.stderr
    assert "spec.replicas: Invalid value: -1: must be greater than or equal to 0" in out.stderr
