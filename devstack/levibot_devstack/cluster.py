"""A real Kubernetes control plane on loopback, without Docker.

Tooling layer (not part of the product). Runs etcd (Debian), kube-apiserver,
kube-controller-manager and kube-scheduler (built by hack/tools.sh from
k8s.io/kubernetes) and kwok, which plays the kubelet for fake nodes: pods
become Ready and Job pods complete. Every server binds 127.0.0.1 on a free
port; all state lives in one directory, so `down` leaves nothing behind.

Used by `make cluster` / `make cluster-down` and by the `kube` pytest fixture:

    python -m levibot_devstack.cluster up [--dir .run/cluster] [--nodes 2]
    python -m levibot_devstack.cluster down [--dir .run/cluster]
    python -m levibot_devstack.cluster status [--dir .run/cluster]
"""

from __future__ import annotations

import argparse
import json
import shutil
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from levibot_devstack.components import (
    POD_CIDR,
    build_apiserver_args,
    build_etcd_args,
    build_kcm_args,
    build_scheduler_args,
)
from levibot_devstack.net import free_port, http_ok
from levibot_devstack.pki import build_admin_kubeconfig, make_pki
from levibot_devstack.processes import pid_file_alive, stop_groups, wait_until
from levibot_devstack.tools import ROOT, tool_dir

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


@dataclass
class LocalCluster:
    """One local control plane whose state lives in `workdir`."""

    workdir: Path
    nodes: int = 2
    bin_dir: Path | None = None
    ports: dict[str, int] = field(default_factory=dict)
    _procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    def _bin(self, name: str) -> str:
        if name == "etcd":
            return shutil.which("etcd") or "/usr/bin/etcd"
        assert self.bin_dir is not None
        return str(self.bin_dir / name)

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Runs the cached kubectl against this cluster."""
        self.bin_dir = self.bin_dir or tool_dir()
        cmd = [self._bin("kubectl"), "--kubeconfig", str(self.kubeconfig), *args]
        return subprocess.run(
            cmd, check=check, capture_output=True, text=True, input=input, timeout=timeout
        )

    # -- lifecycle ---------------------------------------------------------
    def up(self, timeout: float = 120) -> LocalCluster:
        """Starts every component (or finds it running) and waits until nodes are Ready."""
        if self.running():
            self._load_state()
            return self
        self.down()
        self.bin_dir = self.bin_dir or tool_dir()
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        make_pki(self.workdir / "pki")
        for name in ("etcd", "etcd-peer", "apiserver", "kcm", "scheduler", "kwok"):
            self.ports[name] = free_port()
        (self.workdir / "ports.json").write_text(json.dumps(self.ports))
        self.kubeconfig.write_text(build_admin_kubeconfig(self.server, self.workdir / "pki"))
        self._start("etcd", build_etcd_args(self.workdir, self.ports))
        self._wait_http(f"http://127.0.0.1:{self.ports['etcd']}/health", timeout)
        self._start("kube-apiserver", build_apiserver_args(self.workdir, self.ports))
        self._wait_apiserver(timeout)
        self._start("kube-controller-manager", build_kcm_args(self.workdir, self.ports))
        self._start("kube-scheduler", build_scheduler_args(self.workdir, self.ports))
        self._start("kwok", self._kwok_args())
        if self.nodes:
            self._create_nodes()
            self.kubectl(
                "wait",
                "--for=condition=Ready",
                "node",
                "-l",
                "type=kwok",
                f"--timeout={int(timeout)}s",
            )
        self._wait_default_serviceaccount(timeout)
        return self

    def down(self) -> None:
        """Stops every component this directory started (all at once); idempotent."""
        pid_files = [self.workdir / f"{n}.pid" for n in COMPONENTS]
        pids = [int(p.read_text()) for p in pid_files if p.exists()]
        stop_groups(pids)  # the state is thrown away: no long graceful shutdown
        for pid_file in pid_files:
            pid_file.unlink(missing_ok=True)
        for proc in self._procs.values():  # reap our own children
            proc.wait()
        self._procs.clear()
        shutil.rmtree(self.workdir / "etcd-data", ignore_errors=True)

    def running(self) -> bool:
        """True when every component's process is alive."""
        return all(pid_file_alive(self.workdir / f"{n}.pid") for n in COMPONENTS)

    def _load_state(self) -> None:
        self.ports = json.loads((self.workdir / "ports.json").read_text())
        self.bin_dir = self.bin_dir or tool_dir()

    # -- processes ---------------------------------------------------------
    def _start(self, name: str, args: list[str]) -> None:
        with (self.workdir / "logs" / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(
                [self._bin(name), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.workdir,
            )
        self._procs[name] = proc
        (self.workdir / f"{name}.pid").write_text(str(proc.pid))

    def _kwok_args(self) -> list[str]:
        # Only the annotated fake nodes: kubelet.py runs the pods of its own node.
        return [
            f"--kubeconfig={self.kubeconfig}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            f"--cidr={POD_CIDR}",
            "--node-ip=127.0.0.1",
            "--node-lease-duration-seconds=40",
            f"--server-address=127.0.0.1:{self.ports['kwok']}",
        ]

    def _create_nodes(self) -> None:
        items = [_kwok_node(f"kwok-node-{i}") for i in range(self.nodes)]
        doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
        self.kubectl("apply", "-f", "-", input=doc)

    # -- waiting -----------------------------------------------------------
    def _wait_http(self, url: str, timeout: float) -> None:
        wait_until(lambda: http_ok(url), timeout, f"{url} to answer", every=0.2)

    def _wait_apiserver(self, timeout: float) -> None:
        pki = self.workdir / "pki"
        ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        self._check_alive("kube-apiserver")
        ready = f"{self.server}/readyz"
        wait_until(lambda: http_ok(ready, ctx), timeout, "kube-apiserver ready", every=0.2)

    def _wait_default_serviceaccount(self, timeout: float) -> None:
        def ready() -> bool:
            out = self.kubectl("get", "serviceaccount", "default", "-n", "default", check=False)
            return out.returncode == 0

        wait_until(ready, timeout, "the default ServiceAccount", every=0.2)

    def _check_alive(self, name: str) -> None:
        if not pid_file_alive(self.workdir / f"{name}.pid"):
            log = (self.workdir / "logs" / f"{name}.log").read_text()[-3000:]
            raise RuntimeError(f"{name} exited during start-up:\n{log}")


def _kwok_node(name: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
        "status": {
            "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "500"},
            "capacity": {"cpu": "64", "memory": "256Gi", "pods": "500"},
        },
    }


def main(argv: list[str] | None = None) -> int:
    """CLI for `make cluster`, `make cluster-down` and by-hand use."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument("--dir", default=str(ROOT / ".run" / "cluster"))
    parser.add_argument("--nodes", type=int, default=2)
    args = parser.parse_args(argv)
    cluster = LocalCluster(Path(args.dir).resolve(), nodes=args.nodes)
    if args.action == "down":
        cluster.down()
        print("local control plane stopped")
        return 0
    if args.action == "status" and not cluster.running():
        print("local control plane: not running (start it with `make cluster`)")
        return 1
    started = time.monotonic()
    cluster.up()
    took = time.monotonic() - started
    version = cluster.kubectl("version", "-o", "json").stdout
    server = json.loads(version)["serverVersion"]["gitVersion"]
    nodes = cluster.kubectl("get", "nodes", "-o", "name").stdout.split()
    print(f"local control plane up ({took:.1f}s): Kubernetes {server}, {len(nodes)} kwok nodes")
    print(f"  export KUBECONFIG={cluster.kubeconfig}")
    print(f"  export PATH={cluster.bin_dir}:$PATH   # kubectl, helm, kwok of the same versions")
    print("  kubectl get nodes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
