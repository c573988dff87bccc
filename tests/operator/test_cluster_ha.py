"""HA: two operator replicas behind a Lease; only the holder acts, the other takes over when
the holder is SIGKILLed."""

from __future__ import annotations

from pathlib import Path

import pytest

from levibot_devstack.cluster import LocalCluster
from tests.operator.support.cluster import (
    OperatorProcess,
    apply_doc,
    apply_schema,
    create_db_secret,
    get_json,
    install_crd,
    load_example,
    wait_for,
)

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.slow]


def replica(kube: LocalCluster, tmp_path: Path, identity: str, ns: str) -> OperatorProcess:
    return OperatorProcess(
        kube,
        tmp_path / f"{identity}.log",
        LEVIBOT_OPERATOR_STANDALONE="false",
        LEVIBOT_OPERATOR_IDENTITY=identity,
        LEVIBOT_OPERATOR_LEASE_NAMESPACE=ns,
        LEVIBOT_OPERATOR_LEASE_DURATION_SECONDS="6",
        LEVIBOT_OPERATOR_LEASE_RENEW_SECONDS="1",
    ).start()


def holder(kube: LocalCluster, ns: str) -> str | None:
    lease = get_json(kube, "-n", ns, "lease", "levibot-operator") or {}
    return (lease.get("spec") or {}).get("holderIdentity")


def test_only_the_lease_holder_acts_and_the_other_takes_over(
    kube: LocalCluster, kube_namespace: str, tmp_path: Path, pg_dsn: str
) -> None:
    ns = kube_namespace
    install_crd(kube)
    apply_schema(pg_dsn)
    create_db_secret(kube, ns, pg_dsn)
    first = replica(kube, tmp_path, "op-a", ns)
    second = OperatorProcess(kube, tmp_path / "unused.log")
    log_b = tmp_path / "op-b.log"
    try:
        wait_for(lambda: holder(kube, ns) == "op-a", what="op-a leads")
        second = replica(kube, tmp_path, "op-b", ns)
        apply_doc(kube, ns, load_example())
        wait_for(lambda: get_json(kube, "-n", ns, "job", "btc-direction-train-v1-1"), what="job")
        assert second.alive()
        assert holder(kube, ns) == "op-a"
        assert "Handler" not in log_b.read_text()  # the follower does nothing
        first.kill()
        wait_for(lambda: holder(kube, ns) == "op-b", timeout=60, what="op-b takes over")
        wait_for(lambda: "modeldeployment_resume" in log_b.read_text(), what="op-b resumes")
        jobs = get_json(kube, "-n", ns, "jobs")["items"]
        assert [j["metadata"]["name"] for j in jobs] == ["btc-direction-train-v1-1"]
    finally:
        first.stop()
        second.stop()
