"""Session-scoped real servers for the test suite (PostgreSQL, Prometheus,
Alertmanager, the local Kubernetes control plane), wrapping levibot_devstack."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from levibot_devstack.cluster import LocalCluster
from levibot_devstack.processes import processes_under
from levibot_devstack.release import start_kubelet
from levibot_devstack.services import AlertmanagerServer, PostgresServer, PrometheusServer
from levibot_devstack.stack import LocalStack, StackConfig

NULL_ALERTMANAGER_CONFIG = """\
route:
  receiver: blackhole
receivers:
  - name: blackhole
"""


def shared_tmpdir(prefix: str) -> Path:
    """A directory under /tmp that a dropped-privilege server (postgres) can reach."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(path, pw.pw_uid, pw.pw_gid)
    return path


def postgres_server() -> Iterator[PostgresServer]:
    workdir = shared_tmpdir("levibot-pg-")
    server = PostgresServer(workdir).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def fresh_database(server: PostgresServer) -> str:
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}")


def prometheus_server() -> Iterator[PrometheusServer]:
    workdir = Path(tempfile.mkdtemp(prefix="levibot-prom-"))
    server = PrometheusServer(workdir).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def alertmanager_server() -> Iterator[AlertmanagerServer]:
    workdir = Path(tempfile.mkdtemp(prefix="levibot-am-"))
    server = AlertmanagerServer(workdir).start(NULL_ALERTMANAGER_CONFIG)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def local_cluster() -> Iterator[LocalCluster]:
    workdir = Path(tempfile.mkdtemp(prefix="levibot-kube-"))
    cluster = LocalCluster(workdir).up()
    try:
        yield cluster
    finally:
        cluster.down()
        shutil.rmtree(workdir, ignore_errors=True)


def local_kubelet_cluster() -> Iterator[LocalCluster]:
    """A control plane whose only node is levibot_devstack.kubelet: pods really run."""
    workdir = Path(tempfile.mkdtemp(prefix="levibot-kubelet-"))
    cluster = LocalCluster(workdir / "cluster", nodes=0).up()
    kubelet = start_kubelet(cluster, workdir / "kubelet", workdir / "targets.json")
    try:
        yield cluster
    finally:
        kubelet.stop()
        left = processes_under(workdir / "kubelet")
        cluster.down()
        shutil.rmtree(workdir, ignore_errors=True)
    assert not left, f"pods outlived the local kubelet: pids {left}"


def local_stack() -> Iterator[LocalStack]:
    workdir = Path(tempfile.mkdtemp(prefix="levibot-stack-"))
    workdir.chmod(0o755)  # PostgreSQL runs as its own user below it
    stack = LocalStack(StackConfig(workdir))
    try:
        stack.up(say=lambda _: None)
        yield stack
    finally:
        stack.down()
        left = processes_under(workdir)
        shutil.rmtree(workdir, ignore_errors=True)
    assert not left, f"processes outlived the local stack: pids {left}"
