"""The local kubelet runs a pod's real command with the pod's environment and
reports the process back into the pod's status."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from levibot_devstack.cluster import LocalCluster
from levibot_devstack.pod_env import rewrite

pytestmark = pytest.mark.cluster

# Serves, on its port, the env it was given and the content of a mounted file.
SERVER = """
import http.server, json, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"greeting": os.environ.get("GREETING"),
                           "secret": os.environ.get("DB_DSN"),
                           "pod": os.environ.get("POD_NAME"),
                           "file": open(os.environ["FLAG_FILE"]).read()}).encode()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer((os.environ["HOST"], int(os.environ["PORT"])), H).serve_forever()
"""


def _apply(kube: LocalCluster, obj: dict[str, Any]) -> None:
    kube.kubectl("apply", "-f", "-", input=json.dumps(obj))


def _get(kube: LocalCluster, ns: str, *args: str) -> Any:
    return json.loads(kube.kubectl("-n", ns, "get", *args, "-o", "json").stdout)


def _eventually(check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (AssertionError, KeyError, IndexError, OSError) as err:
            last = err
        time.sleep(0.3)
    pytest.fail(f"not reached in {timeout}s; last: {last!r}")


@pytest.fixture
def ns(kube_local: LocalCluster) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    kube_local.kubectl("create", "namespace", name)
    yield name
    kube_local.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_rewrite_maps_paths_ports_and_bind_address(tmp_path: Any) -> None:
    mounts = {"/etc/flags": tmp_path / "flags"}
    assert rewrite("/etc/flags/enabled", mounts, {}) == f"{tmp_path}/flags/enabled"
    assert rewrite("--flag-file=/etc/flags/x", mounts, {}) == f"--flag-file={tmp_path}/flags/x"
    assert rewrite("8080", {}, {8080: 41000}) == "41000"
    assert rewrite("--port=8080", {}, {8080: 41000}) == "--port=41000"
    assert rewrite("0.0.0.0", {}, {}) == "127.0.0.1"
    assert rewrite("/etc/flagsmore", mounts, {}) == "/etc/flagsmore"
    assert rewrite("80801", {}, {8080: 41000}) == "80801"


def _serving_pod(ns: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": ns,
                     "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"}},
        "spec": {
            "restartPolicy": "Always",
            "containers": [{
                "name": "web", "image": "levibot/test:dev",
                "command": ["python", "-c", SERVER],
                "ports": [{"containerPort": 8080, "name": "http"}],
                "env": [
                    {"name": "HOST", "value": "0.0.0.0"},
                    {"name": "PORT", "value": "8080"},
                    {"name": "GREETING",
                     "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "greeting"}}},
                    {"name": "DB_DSN", "valueFrom": {"secretKeyRef": {"name": "db", "key": "dsn"}}},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "FLAG_FILE", "value": "/etc/flags/enabled"},
                ],
                "volumeMounts": [{"name": "flags", "mountPath": "/etc/flags", "readOnly": True}],
                "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 1},
            }],
            "volumes": [{"name": "flags", "configMap": {"name": "flags"}}],
        },
    }  # fmt: skip


def test_pod_runs_with_resolved_env_volumes_and_ports(kube_local: LocalCluster, ns: str) -> None:
    kube = kube_local
    kube.kubectl("-n", ns, "create", "configmap", "cfg", "--from-literal=greeting=hello")
    kube.kubectl("-n", ns, "create", "configmap", "flags", "--from-literal=enabled=false")
    kube.kubectl("-n", ns, "create", "secret", "generic", "db", "--from-literal=dsn=postgresql://x")
    _apply(kube, _serving_pod(ns))
    kube.kubectl("-n", ns, "wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
    pod = _get(kube, ns, "pod", "web")
    assert pod["status"]["phase"] == "Running"
    port = json.loads(pod["metadata"]["annotations"]["levibot.io/local-ports"])["8080"]

    def fetch() -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
            return json.load(resp)

    assert fetch() == {"greeting": "hello", "secret": "postgresql://x", "pod": "web",
                       "file": "false"}  # fmt: skip
    kube.kubectl("-n", ns, "patch", "configmap", "flags", "-p", '{"data":{"enabled":"true"}}')
    _eventually(lambda: fetch()["file"] == "true")


def test_pod_waits_for_a_missing_secret_with_a_reason(kube_local: LocalCluster, ns: str) -> None:
    kube = kube_local
    _apply(kube, _serving_pod(ns))

    def waiting_reason() -> Any:
        status = _get(kube, ns, "pod", "web")["status"]
        state = status["containerStatuses"][0]["state"]
        return state.get("waiting", {}).get("message")

    assert "not found" in _eventually(waiting_reason)
    kube.kubectl("-n", ns, "create", "configmap", "cfg", "--from-literal=greeting=hi")
    kube.kubectl("-n", ns, "create", "configmap", "flags", "--from-literal=enabled=false")
    kube.kubectl("-n", ns, "create", "secret", "generic", "db", "--from-literal=dsn=x")
    kube.kubectl("-n", ns, "wait", "--for=condition=Ready", "pod/web", "--timeout=60s")


def _job(ns: str, name: str, code: int) -> dict[str, Any]:
    ok = "true" if code == 0 else "false"
    write = f"open(os.environ['RESULT'], 'w').write('{{\"ok\": {ok}}}')"
    script = f"import os, sys; {write}; sys.exit({code})"
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"backoffLimit": 0, "template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "levibot/test:dev",
                            "command": ["python", "-c", script],
                            "env": [{"name": "RESULT", "value": "/dev/termination-log"}]}],
        }}},
    }  # fmt: skip


def test_job_success_and_failure_are_reported_with_the_termination_message(
    kube_local: LocalCluster, ns: str
) -> None:
    kube = kube_local
    _apply(kube, _job(ns, "good", 0))
    _apply(kube, _job(ns, "bad", 3))
    kube.kubectl("-n", ns, "wait", "--for=condition=Complete", "job/good", "--timeout=60s")
    kube.kubectl("-n", ns, "wait", "--for=condition=Failed", "job/bad", "--timeout=60s")
    good = _get(kube, ns, "pods", "-l", "job-name=good")["items"][0]["status"]
    term = good["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["message"]) == (0, '{"ok": true}')
    bad = _get(kube, ns, "pods", "-l", "job-name=bad")["items"][0]["status"]
    assert bad["phase"] == "Failed"
    assert bad["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 3


def test_deleting_a_pod_stops_its_process(kube_local: LocalCluster, ns: str) -> None:
    kube = kube_local
    kube.kubectl("-n", ns, "create", "configmap", "cfg", "--from-literal=greeting=hi")
    kube.kubectl("-n", ns, "create", "configmap", "flags", "--from-literal=enabled=false")
    kube.kubectl("-n", ns, "create", "secret", "generic", "db", "--from-literal=dsn=x")
    _apply(kube, _serving_pod(ns))
    kube.kubectl("-n", ns, "wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
    pod = _get(kube, ns, "pod", "web")
    port = json.loads(pod["metadata"]["annotations"]["levibot.io/local-ports"])["8080"]
    kube.kubectl("-n", ns, "delete", "pod", "web", "--timeout=60s")

    def refused() -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
        except OSError:
            return True
        return False

    assert _eventually(refused)


RBAC_PROBE = """
import json, os, ssl, urllib.request, urllib.error
cfg = json.load(open(os.environ["KUBECONFIG"]))
server = cfg["clusters"][0]["cluster"]["server"]
ctx = ssl.create_default_context(cafile=cfg["clusters"][0]["cluster"]["certificate-authority"])
token = cfg["users"][0]["user"]["token"]
def status(path):
    req = urllib.request.Request(server + path, headers={"Authorization": "Bearer " + token})
    try:
        return urllib.request.urlopen(req, context=ctx).status
    except urllib.error.HTTPError as err:
        return err.code
ns = os.environ["NS"]
codes = [status(f"/api/v1/namespaces/{ns}/configmaps/cfg"),
         status(f"/api/v1/namespaces/{ns}/secrets")]
open(os.environ["RESULT"], "w").write(" ".join(map(str, codes)))
"""


def test_pod_authenticates_as_its_service_account(kube_local: LocalCluster, ns: str) -> None:
    kube = kube_local
    kube.kubectl("-n", ns, "create", "serviceaccount", "reader")
    kube.kubectl("-n", ns, "create", "role", "read-cm", "--verb=get", "--resource=configmaps")
    kube.kubectl("-n", ns, "create", "rolebinding", "read-cm", "--role=read-cm",
                 f"--serviceaccount={ns}:reader")  # fmt: skip
    kube.kubectl("-n", ns, "create", "configmap", "cfg", "--from-literal=a=b")
    job = _job(ns, "rbac", 0)
    pod_spec = job["spec"]["template"]["spec"]
    pod_spec["serviceAccountName"] = "reader"
    pod_spec["containers"][0]["command"] = ["python", "-c", RBAC_PROBE]
    pod_spec["containers"][0]["env"].append({"name": "NS", "value": ns})
    _apply(kube, job)
    kube.kubectl("-n", ns, "wait", "--for=condition=Complete", "job/rbac", "--timeout=60s")
    pod = _get(kube, ns, "pods", "-l", "job-name=rbac")["items"][0]["status"]
    # allowed by the Role: 200; not granted: 403 — RBAC applies to the process
    assert pod["containerStatuses"][0]["state"]["terminated"]["message"] == "200 403"
