"""Command lines of the control plane's components: etcd, kube-apiserver, controller manager
and scheduler (kwok's is in cluster.py).

Tooling layer, pure: each builder maps the cluster's directory and its loopback ports to argv.
"""

from __future__ import annotations

from pathlib import Path

SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"


def build_etcd_args(workdir: Path, ports: dict[str, int]) -> list[str]:
    """etcd with its client and peer URLs on loopback and its data in `workdir`."""
    client = f"http://127.0.0.1:{ports['etcd']}"
    peer = f"http://127.0.0.1:{ports['etcd-peer']}"
    data = workdir / "etcd-data"
    return [
        f"--data-dir={data}",
        "--name=node0",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=node0={peer}",
        "--quota-backend-bytes=4294967296",
        "--log-level=warn",
    ]


def build_apiserver_args(workdir: Path, ports: dict[str, int]) -> list[str]:
    """kube-apiserver: TLS with the local CA, RBAC, service accounts signed by pki/sa.key."""
    pki = workdir / "pki"
    return [
        f"--etcd-servers=http://127.0.0.1:{ports['etcd']}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={ports['apiserver']}",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'ca.crt'}",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        f"--service-account-issuer=https://127.0.0.1:{ports['apiserver']}",
        "--authorization-mode=Node,RBAC",
        "--allow-privileged=true",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--max-requests-inflight=1000",
        "--max-mutating-requests-inflight=500",
        "--enable-priority-and-fairness=false",
        "--profiling=false",
        # kwok re-watches from resourceVersion "0"; with WatchList on, the server turns that
        # into a watch-list stream, which Debian's etcd 3.4.23 cannot serve (no
        # RequestWatchProgress): every watch fails at once and kwok sees pods only on relists
        # spaced by its growing backoff (Jobs took 16 s, 48 s, 96 s; 0.3 s without it).
        "--feature-gates=WatchList=false",
    ]


def _component_args(workdir: Path) -> list[str]:
    return [
        f"--kubeconfig={workdir / 'kubeconfig'}",
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        "--profiling=false",
    ]


def build_kcm_args(workdir: Path, ports: dict[str, int]) -> list[str]:
    """kube-controller-manager: every controller but node IPAM, with generous concurrency."""
    pki = workdir / "pki"
    return [
        *_component_args(workdir),
        f"--secure-port={ports['kcm']}",
        f"--root-ca-file={pki / 'ca.crt'}",
        f"--service-account-private-key-file={pki / 'sa.key'}",
        "--use-service-account-credentials=false",
        "--controllers=*,-nodeipam",
        f"--cluster-cidr={POD_CIDR}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--kube-api-qps=200",
        "--kube-api-burst=400",
        "--concurrent-deployment-syncs=20",
        "--concurrent-replicaset-syncs=20",
        "--concurrent-job-syncs=20",
        "--concurrent-gc-syncs=40",
    ]


def build_scheduler_args(workdir: Path, ports: dict[str, int]) -> list[str]:
    """kube-scheduler with the admin kubeconfig."""
    return [
        *_component_args(workdir),
        f"--secure-port={ports['scheduler']}",
        "--kube-api-qps=200",
        "--kube-api-burst=400",
    ]
