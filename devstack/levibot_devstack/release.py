"""levibot installed on the local control plane: the helm release and its operator pods.

Tooling layer. `helm install` of charts/levibot with hack/local-values.yaml; the operator runs
as pods of the local kubelet, whose loopback ports the kubelet publishes in an annotation.
Also starts that kubelet, and renders the chart's alert rules for the local Prometheus.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from levibot_devstack.cluster import LocalCluster
from levibot_devstack.pod_status import PORTS_ANNOTATION
from levibot_devstack.processes import Process, processes_under, wait_until
from levibot_devstack.tools import ROOT, tool_dir

RELEASE = "levibot"
SYSTEM_NS = "levibot-system"
CHART = ROOT / "charts" / "levibot"
LOCAL_VALUES = ROOT / "hack" / "local-values.yaml"


def start_kubelet(cluster: LocalCluster, workdir: Path, sd_file: Path) -> Process:
    """Starts the local kubelet (kubelet.py) for `cluster` and waits until its node is Ready."""
    argv = [sys.executable, "-m", "levibot_devstack.kubelet"]
    argv += ["--kubeconfig", str(cluster.kubeconfig)]
    argv += ["--workdir", str(workdir), "--prometheus-sd-file", str(sd_file)]
    kubelet = Process(argv, workdir.parent / "logs" / "kubelet.log")
    kubelet.start()
    jsonpath = '{.status.conditions[?(@.type=="Ready")].status}'

    def ready() -> bool:
        if not kubelet.alive():
            raise RuntimeError(f"the local kubelet exited:\n{kubelet.tail()}")
        get = ["get", "node", "levibot-local", "-o", f"jsonpath={jsonpath}"]
        return cluster.kubectl(*get, check=False).stdout == "True"

    wait_until(ready, 60, "the local kubelet's node")
    return kubelet


def install_chart(cluster: LocalCluster, prometheus_url: str) -> None:
    """helm upgrade --install of the chart, with the local values."""
    helm = str(tool_dir() / "helm")
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
    argv = [helm, "upgrade", "--install", RELEASE, str(CHART), "--namespace", SYSTEM_NS]
    argv += ["--create-namespace", "-f", str(LOCAL_VALUES)]
    argv += ["--set", f"operator.prometheusUrl={prometheus_url}"]
    subprocess.run(argv, check=True, capture_output=True, text=True, env=env)


def uninstall_chart(cluster: LocalCluster) -> None:
    """helm uninstall, waiting (at most a minute) for the release's objects to go."""
    helm = str(tool_dir() / "helm")
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
    subprocess.run(
        [helm, "uninstall", RELEASE, "-n", SYSTEM_NS, "--wait"],
        check=False,
        capture_output=True,
        env=env,
        timeout=60,
    )


def render_alert_rules() -> str:
    """The chart's Prometheus rules (the PrometheusRule's groups) as a rules file."""
    helm = str(tool_dir() / "helm")
    argv = [helm, "template", RELEASE, str(CHART), "--show-only", "templates/prometheusrule.yaml"]
    argv += ["-f", str(LOCAL_VALUES), "--set", "prometheusRule.enabled=true"]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    rule = yaml.safe_load(out)
    return str(yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False))


def fetch_operator_pods(cluster: LocalCluster) -> list[dict[str, Any]]:
    """The operator's pods, as the API server has them."""
    selector = "app.kubernetes.io/component=operator"
    out = cluster.kubectl("-n", SYSTEM_NS, "get", "pods", "-l", selector, "-o", "json")
    return list(json.loads(out.stdout)["items"])


def parse_webhook_ports(pods: list[dict[str, Any]]) -> list[int]:
    """The loopback port of every pod's webhook, once all have one (else [])."""
    ports = []
    for pod in pods:
        mapping = pod["metadata"].get("annotations", {}).get(PORTS_ANNOTATION)
        if mapping is None:
            return []
        ports.append(int(json.loads(mapping)["8443"]))
    return ports


def write_webhook_token(cluster: LocalCluster, token_file: Path) -> None:
    """The chart's webhook token, in a file only this user can read (for Alertmanager)."""
    jsonpath = "jsonpath={.data.token}"
    get = ["-n", SYSTEM_NS, "get", "secret", f"{RELEASE}-webhook", "-o", jsonpath]
    token_file.write_bytes(base64.b64decode(cluster.kubectl(*get).stdout))
    token_file.chmod(0o600)


def kill_pod_processes(pod: dict[str, Any], kubelet_dir: Path) -> None:
    """SIGKILLs the processes of the local kubelet's pod `pod` (as an OOM kill would)."""
    pids = processes_under(kubelet_dir / "pods" / pod["metadata"]["uid"])
    if not pids:
        raise RuntimeError(f"no process runs operator pod {pod['metadata']['name']}")
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
