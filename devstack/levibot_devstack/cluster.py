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
import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the kernel picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tool_dir() -> Path:
    """The cached binaries; builds them on first use (hack/tools.sh)."""
    env_dir = os.environ.get("LEVIBOT_BIN_DIR")
    if env_dir:
        return Path(env_dir)
    out = subprocess.run(
        [str(ROOT / "hack" / "tools.sh")], check=True, capture_output=True, text=True
    )
    return Path(out.stdout.strip().splitlines()[-1])


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_pki(pki: Path) -> None:
    """CA, apiserver serving cert, admin client cert, service-account key."""
    pki.mkdir(parents=True, exist_ok=True)
    if (pki / "admin.crt").exists():
        return
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "3650",
        "-keyout",
        str(pki / "ca.key"),
        "-out",
        str(pki / "ca.crt"),
        "-subj",
        "/CN=levibot-local-ca",
    )
    ext = pki / "server.ext"
    ext.write_text(
        "subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
        "DNS:kubernetes.default.svc,IP:127.0.0.1,IP:10.96.0.1\n"
    )
    for name, subj, extfile in (
        ("apiserver", "/CN=kube-apiserver", ext),
        ("admin", "/O=system:masters/CN=levibot-admin", None),
    ):
        _openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(pki / f"{name}.key"),
            "-out",
            str(pki / f"{name}.csr"),
            "-subj",
            subj,
        )
        extra = ["-extfile", str(extfile)] if extfile else []
        _openssl(
            "x509",
            "-req",
            "-in",
            str(pki / f"{name}.csr"),
            "-CA",
            str(pki / "ca.crt"),
            "-CAkey",
            str(pki / "ca.key"),
            "-CAcreateserial",
            "-days",
            "3650",
            "-out",
            str(pki / f"{name}.crt"),
            *extra,
        )
    _openssl("genrsa", "-out", str(pki / "sa.key"), "2048")
    _openssl("rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))


def kubeconfig_text(server: str, pki: Path) -> str:
    """An admin kubeconfig (client certificate in system:masters)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "levibot-local",
            "clusters": [
                {
                    "name": "levibot-local",
                    "cluster": {"server": server, "certificate-authority": str(pki / "ca.crt")},
                }
            ],
            "users": [
                {
                    "name": "admin",
                    "user": {
                        "client-certificate": str(pki / "admin.crt"),
                        "client-key": str(pki / "admin.key"),
                    },
                }
            ],
            "contexts": [
                {"name": "levibot-local", "context": {"cluster": "levibot-local", "user": "admin"}}
            ],
        },
        indent=2,
    )


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
        self.kubeconfig.write_text(kubeconfig_text(self.server, self.workdir / "pki"))
        self._start("etcd", self._etcd_args())
        self._wait_http(f"http://127.0.0.1:{self.ports['etcd']}/health", timeout)
        self._start("kube-apiserver", self._apiserver_args())
        self._wait_apiserver(timeout)
        self._start("kube-controller-manager", self._kcm_args())
        self._start("kube-scheduler", self._scheduler_args())
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
        _stop_groups(pids)
        for pid_file in pid_files:
            pid_file.unlink(missing_ok=True)
        for proc in self._procs.values():  # reap our own children
            proc.wait()
        self._procs.clear()
        shutil.rmtree(self.workdir / "etcd-data", ignore_errors=True)

    def running(self) -> bool:
        """True when every component's process is alive."""
        return all(_alive(self.workdir / f"{n}.pid") for n in COMPONENTS)

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

    def _etcd_args(self) -> list[str]:
        client = f"http://127.0.0.1:{self.ports['etcd']}"
        peer = f"http://127.0.0.1:{self.ports['etcd-peer']}"
        data = self.workdir / "etcd-data"
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

    def _apiserver_args(self) -> list[str]:
        pki = self.workdir / "pki"
        return [
            f"--etcd-servers=http://127.0.0.1:{self.ports['etcd']}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.ports['apiserver']}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            f"--service-account-issuer=https://127.0.0.1:{self.ports['apiserver']}",
            "--authorization-mode=Node,RBAC",
            "--allow-privileged=true",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--max-requests-inflight=1000",
            "--max-mutating-requests-inflight=500",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
        ]

    def _component_kubeconfig_args(self) -> list[str]:
        return [
            f"--kubeconfig={self.kubeconfig}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            "--profiling=false",
        ]

    def _kcm_args(self) -> list[str]:
        pki = self.workdir / "pki"
        return [
            *self._component_kubeconfig_args(),
            f"--secure-port={self.ports['kcm']}",
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

    def _scheduler_args(self) -> list[str]:
        return [
            *self._component_kubeconfig_args(),
            f"--secure-port={self.ports['scheduler']}",
            "--kube-api-qps=200",
            "--kube-api-burst=400",
        ]

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
        _wait(lambda: _http_ok(url, None), timeout, f"{url} to answer")

    def _wait_apiserver(self, timeout: float) -> None:
        pki = self.workdir / "pki"
        ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        self._check_alive("kube-apiserver")
        _wait(lambda: _http_ok(f"{self.server}/readyz", ctx), timeout, "kube-apiserver ready")

    def _wait_default_serviceaccount(self, timeout: float) -> None:
        def ready() -> bool:
            out = self.kubectl("get", "serviceaccount", "default", "-n", "default", check=False)
            return out.returncode == 0

        _wait(ready, timeout, "the default ServiceAccount")

    def _check_alive(self, name: str) -> None:
        if not _alive(self.workdir / f"{name}.pid"):
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


def _http_ok(url: str, ctx: ssl.SSLContext | None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2, context=ctx) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _wait(pred: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def _alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


def _stop_groups(pids: list[int], grace: float = 5) -> None:
    """SIGTERM each process group, then SIGKILL whatever is left after `grace` seconds.

    The state is thrown away, so there is nothing to gain from a long graceful
    shutdown (kube-apiserver drains watches for a while)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if _group_alive(pid)]
        time.sleep(0.1)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


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
