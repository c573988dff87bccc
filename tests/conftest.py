"""Fixtures shared by every test layer: real servers, started once per session.

Each fixture starts the real thing (Debian's PostgreSQL 15, Prometheus,
Alertmanager; the locally built kube-apiserver with kwok nodes) or fails with
the reason; nothing is skipped because a part is missing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from levibot_devstack.cluster import LocalCluster
from levibot_devstack.services import AlertmanagerServer, PostgresServer, PrometheusServer
from levibot_devstack.stack import LocalStack
from tests.support import services

# Session fixtures that start a control plane: under pytest-xdist (`--dist loadgroup`) every test
# using one of them runs on the same worker, so each control plane starts once.
SHARED_CLUSTERS = ("stack", "kube_local", "kube")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups in the same hook
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Puts each test that needs a control plane in that control plane's xdist group, unless it
    names its own (the drift e2e, the longest, runs on a stack of its own beside the others)."""
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        names = getattr(item, "fixturenames", ())
        group = next((name for name in SHARED_CLUSTERS if name in names), None)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL 15 server for the whole session (trust auth, loopback)."""
    yield from services.postgres_server()


@pytest.fixture
def pg_dsn(pg_server: PostgresServer) -> str:
    """The DSN of a fresh, empty database on the session's server."""
    if pg_server.process is None or not pg_server.process.alive():
        pg_server.start()  # a test that stopped it must not break the next one
    return services.fresh_database(pg_server)


@pytest.fixture(scope="session")
def prometheus() -> Iterator[PrometheusServer]:
    """Prometheus on a free loopback port; tests reload it with their own config."""
    yield from services.prometheus_server()


@pytest.fixture(scope="session")
def alertmanager() -> Iterator[AlertmanagerServer]:
    """Alertmanager on a free loopback port; tests reload it with their own config."""
    yield from services.alertmanager_server()


@pytest.fixture(scope="session")
def kube() -> Iterator[LocalCluster]:
    """The local control plane: etcd, kube-apiserver, controller-manager, scheduler, kwok."""
    yield from services.local_cluster()


@pytest.fixture(scope="session")
def kube_local() -> Iterator[LocalCluster]:
    """A second control plane whose only node is the local kubelet: pods run as processes."""
    yield from services.local_kubelet_cluster()


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """The whole of levibot on this machine (hack/localstack.py), as `make demo` runs it."""
    yield from services.local_stack()


@pytest.fixture
def kube_namespace(kube: LocalCluster) -> Iterator[str]:
    """A fresh namespace, deleted (without waiting) after the test."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    kube.kubectl("create", "namespace", name)
    yield name
    kube.kubectl("delete", "namespace", name, "--wait=false", check=False)
