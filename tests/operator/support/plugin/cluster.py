"""Drive the kubectl plugin against the local control plane: CRDs, objects, status, the plugin.

The plugin runs as a real subprocess with KUBECONFIG and PATH pointing at the cached kubectl,
exactly as ``kubectl levibot`` would run it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from levibot_devstack.cluster import LocalCluster

ROOT = Path(__file__).resolve().parents[4]
CRDS = (ROOT / "crds" / "canary.yaml", ROOT / "crds" / "modeldeployment.yaml")


def install_crds(kube: LocalCluster) -> None:
    files = [arg for crd in CRDS for arg in ("-f", str(crd))]
    applied = kube.kubectl("apply", "--server-side", "--force-conflicts", *files, check=False)
    assert applied.returncode == 0, applied.stderr
    names = ["crd/canaries.levibot.io", "crd/modeldeployments.levibot.io"]
    kube.kubectl("wait", "--for=condition=Established", *names, "--timeout=60s")


def create(kube: LocalCluster, namespace: str, body: dict[str, Any]) -> None:
    """Create the object without its status, then write the status through the subresource."""
    status = body.get("status")
    spec_only = {k: v for k, v in body.items() if k != "status"}
    spec_only["metadata"] = {**body["metadata"], "namespace": namespace}
    text = json.dumps(spec_only)
    created = kube.kubectl("-n", namespace, "create", "-f", "-", input=text, check=False)
    assert created.returncode == 0, created.stderr
    if status:
        patch_status(kube, namespace, body["kind"], body["metadata"]["name"], status)


def patch_status(
    kube: LocalCluster, namespace: str, kind: str, name: str, status: dict[str, Any]
) -> None:
    resource = f"{kind.lower()}.levibot.io/{name}"
    patch = json.dumps({"status": status})
    kube.kubectl(
        "-n", namespace, "patch", resource, "--subresource=status", "--type=merge", "-p", patch
    )


def annotations(kube: LocalCluster, namespace: str, name: str) -> dict[str, str]:
    got = kube.kubectl("-n", namespace, "get", "canaries.levibot.io", name, "-o", "json")
    return dict(json.loads(got.stdout)["metadata"].get("annotations") or {})


def plugin_env(kube: LocalCluster, extra_path: str = "") -> dict[str, str]:
    """The environment of a user whose kubeconfig points at the cluster; kubectl is the cached."""
    assert kube.bin_dir is not None
    env = {k: v for k, v in os.environ.items() if k != "KUBECTL"}
    prefix = f"{extra_path}:" if extra_path else ""
    env |= {"KUBECONFIG": str(kube.kubeconfig), "PATH": f"{prefix}{kube.bin_dir}:{env['PATH']}"}
    return env


def run_plugin(kube: LocalCluster, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "levibot_operator.cli.plugin", *args]
    return subprocess.run(
        command, env=plugin_env(kube), capture_output=True, text=True, timeout=120, check=False
    )


def run_as_kubectl_plugin(
    kube: LocalCluster, directory: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """``kubectl levibot ARGS``: kubectl finds a ``kubectl-levibot`` wrapper on PATH."""
    wrapper = directory / "kubectl-levibot"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m levibot_operator.cli.plugin "$@"\n')
    wrapper.chmod(0o755)
    assert kube.bin_dir is not None
    command = [str(kube.bin_dir / "kubectl"), "levibot", *args]
    env = plugin_env(kube, extra_path=str(directory))
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
