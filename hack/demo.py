"""`make demo`: levibot on one machine, on the embedded defaults.

Tooling layer. Brings up the local control plane (hack/localcluster.py),
installs levibot's CRDs, and shows the cluster healthy. The control plane is
left running for by-hand use (`make cluster-down` stops it).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hack.localcluster import ROOT, LocalCluster


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def install_crds(cluster: LocalCluster) -> list[str]:
    """Applies crds/ and waits until every CRD is Established."""
    files = sorted((ROOT / "crds").glob("*.yaml"))
    names = []
    for path in files:
        cluster.kubectl("apply", "--server-side", "-f", str(path))
        doc = cluster.kubectl("get", "-f", str(path), "-o", "json").stdout
        names.append(json.loads(doc)["metadata"]["name"])
    for name in names:
        cluster.kubectl("wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s")
    return names


def main() -> int:
    started = time.monotonic()
    step("local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)")
    cluster = LocalCluster(ROOT / ".run" / "cluster").up()
    version = json.loads(cluster.kubectl("version", "-o", "json").stdout)["serverVersion"]
    print(f"Kubernetes {version['gitVersion']} at {cluster.server}")
    print(cluster.kubectl("get", "nodes", "-o", "wide").stdout, end="")

    step("levibot CRDs")
    for name in install_crds(cluster):
        print(f"established: {name}")
    print(cluster.kubectl("api-resources", "--api-group=levibot.io").stdout, end="")

    step("health")
    print(cluster.kubectl("get", "--raw", "/readyz?verbose").stdout.splitlines()[-1])
    print(f"\nready in {time.monotonic() - started:.1f}s. Use it by hand:")
    print(f"  export KUBECONFIG={cluster.kubeconfig}")
    print("  kubectl get crds,nodes")
    print("  make cluster-down   # stops everything")
    return 0


if __name__ == "__main__":
    sys.exit(main())
