"""The chart on the local control plane (kube-apiserver + kwok): server-side dry run, the Helm
lifecycle, and the operator's RBAC, checked by impersonation and by running the operator with a
token of the chart's ServiceAccount."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from levibot_devstack.cluster import LocalCluster
from tests.chart.support.cluster import (
    can_i,
    chart_operator_env,
    ensure_namespace,
    helm,
    install_args,
    install_monitoring_crds,
    lease_holder,
    run_example,
)
from tests.chart.support.render import FULL_VALUES, NAMESPACE, render_text
from tests.operator.support.cluster import (
    OperatorProcess,
    apply_schema,
    create_db_secret,
    get_json,
    wait_for,
)

pytestmark = pytest.mark.cluster
CRDS = ("modeldeployments.levibot.io", "canaries.levibot.io")

# (verb, resource) pairs the operator uses in the namespaces it watches.
NEEDED = [
    *[
        (v, r)
        for r in ("modeldeployments.levibot.io", "canaries.levibot.io")
        for v in ("get", "list", "watch", "patch", "update")
    ],
    *[
        (v, r)
        for r in ("modeldeployments.levibot.io/status", "canaries.levibot.io/status")
        for v in ("get", "patch", "update")
    ],
    *[
        (v, r)
        for r in (
            "jobs.batch",
            "deployments.apps",
            "services",
            "configmaps",
            "httproutes.gateway.networking.k8s.io",
        )
        for v in ("create", "get", "list", "watch", "patch", "delete")
    ],
    ("create", "canaries.levibot.io"),
    *[
        (v, r)
        for r in ("horizontalpodautoscalers.autoscaling", "poddisruptionbudgets.policy")
        for v in ("create", "get", "patch", "delete")
    ],
    ("get", "secrets"),
    ("get", "pods"),
    ("list", "pods"),
    ("watch", "pods"),
    ("create", "events"),
    ("patch", "events"),
    ("create", "events.events.k8s.io"),
]
FORBIDDEN = [
    ("list", "secrets"),
    ("watch", "secrets"),
    ("delete", "secrets"),
    ("create", "secrets"),
    ("create", "pods"),
    ("delete", "pods"),
    ("create", "pods/exec"),
    ("delete", "modeldeployments.levibot.io"),
    ("create", "serviceaccounts"),
    ("create", "roles.rbac.authorization.k8s.io"),
    ("create", "rolebindings.rbac.authorization.k8s.io"),
    ("update", "deployments.apps/scale"),
    ("list", "horizontalpodautoscalers.autoscaling"),
    ("delete", "persistentvolumeclaims"),
    ("delete", "customresourcedefinitions.apiextensions.k8s.io"),
]


def names(kube: LocalCluster, kinds: str, *scope: str) -> set[str]:
    out = kube.kubectl(
        "get", kinds, "-l", "app.kubernetes.io/instance=levibot", "-o", "name", *scope
    )
    return set(out.stdout.split())


@pytest.mark.parametrize("values", [[], [FULL_VALUES]], ids=["default", "full"])
def test_rendered_chart_passes_server_side_dry_run(kube: LocalCluster, values: list[Path]) -> None:
    install_monitoring_crds(kube)
    for ns in (NAMESPACE, "levibot-models", "levibot-research"):
        ensure_namespace(kube, ns)
    text = render_text(values=values, api_versions=["monitoring.coreos.com/v1"])
    out = kube.kubectl("apply", "--dry-run=server", "-f", "-", input=text, check=False)
    assert out.returncode == 0, out.stderr
    assert "deployment.apps/levibot-operator created (server dry run)" in out.stdout
    if values:
        assert "prometheusrule.monitoring.coreos.com/levibot created (server dry run)" in out.stdout


def test_dry_run_refuses_a_broken_rule(kube: LocalCluster) -> None:
    install_monitoring_crds(kube)
    ensure_namespace(kube, NAMESPACE)
    text = render_text(values=[FULL_VALUES]).replace("for: 5m", "for: five minutes")
    out = kube.kubectl("apply", "--dry-run=server", "-f", "-", input=text, check=False)
    assert out.returncode != 0
    assert "for" in out.stderr


@pytest.mark.slow
def test_install_upgrade_rollback_uninstall(kube: LocalCluster, kube_namespace: str) -> None:
    ns = kube_namespace
    notes = helm(kube, "install", *install_args("levibot", ns))
    assert f"url:    http://levibot-webhook.{ns}.svc:8443/alerts" in notes
    assert f"helm test levibot -n {ns}" in notes
    for crd in CRDS:
        kube.kubectl("wait", "--for=condition=Established", f"crd/{crd}", "--timeout=60s")
    kube.kubectl(
        "-n",
        ns,
        "wait",
        "--for=condition=Ready",
        "pod",
        "-l",
        "app.kubernetes.io/component=operator",
        "--timeout=120s",
    )
    assert {
        "clusterrole.rbac.authorization.k8s.io/levibot-operator",
        "clusterrole.rbac.authorization.k8s.io/levibot-operator-cluster",
        "clusterrolebinding.rbac.authorization.k8s.io/levibot-operator",
    } <= names(kube, "clusterroles,clusterrolebindings")
    assert {
        "serviceaccount/levibot-operator",
        "serviceaccount/levibot-predictor",
        "role.rbac.authorization.k8s.io/levibot-operator-leader-election",
    } <= names(kube, "serviceaccounts,roles", "-n", ns)
    token = get_json(kube, "-n", ns, "secret", "levibot-webhook")["data"]["token"]

    helm(kube, "upgrade", *install_args("levibot", ns, "--set-json", "operator.replicas=2"))
    deployment = get_json(kube, "-n", ns, "deployment", "levibot-operator")
    assert deployment["status"]["readyReplicas"] == 2
    assert get_json(kube, "-n", ns, "pdb", "levibot-operator") is not None
    assert get_json(kube, "-n", ns, "secret", "levibot-webhook")["data"]["token"] == token

    helm(kube, "rollback", "levibot", "1", "--namespace", ns, "--wait", "--timeout", "180s")
    assert get_json(kube, "-n", ns, "deployment", "levibot-operator")["spec"]["replicas"] == 1
    assert get_json(kube, "-n", ns, "pdb", "levibot-operator") is None
    history = json.loads(helm(kube, "history", "levibot", "--namespace", ns, "-o", "json"))
    assert [h["revision"] for h in history] == [1, 2, 3]

    helm(kube, "uninstall", "levibot", "--namespace", ns, "--wait")
    kube.kubectl(
        "-n",
        ns,
        "wait",
        "--for=delete",
        "pod",
        "-l",
        "app.kubernetes.io/instance=levibot",
        "--timeout=120s",
    )  # the garbage collector removes the pods after their owners
    assert not names(kube, "clusterroles,clusterrolebindings")
    left = names(kube, "all,serviceaccounts,configmaps,secrets,roles,rolebindings,pdb", "-n", ns)
    assert left == {"secret/levibot-webhook"}  # helm.sh/resource-policy: keep, by design
    for crd in CRDS:  # Helm never deletes what it installed from crds/
        assert get_json(kube, "crd", crd) is not None


def test_operator_rbac_allows_what_it_uses_and_nothing_more(
    kube: LocalCluster, kube_namespace: str
) -> None:
    ns = kube_namespace
    helm(
        kube,
        "install",
        "rbac",
        str(Path(__file__).parents[2] / "charts" / "levibot"),
        "--namespace",
        ns,
        "--set-json",
        "tests.enabled=false",
    )
    try:
        user = f"system:serviceaccount:{ns}:rbac-levibot-operator"
        refused = [(v, r) for v, r in NEEDED if not can_i(kube, user, v, r, "default")]
        assert not refused, f"the operator needs {refused}"
        allowed = [(v, r) for v, r in FORBIDDEN if can_i(kube, user, v, r, "default")]
        assert not allowed, f"the operator should not {allowed}"
        kubectl_can_i = ("auth", "can-i", "--as", user, "-n", "default")
        assert kube.kubectl(*kubectl_can_i, "create", "jobs.batch").stdout.strip() == "yes"
        assert kube.kubectl(*kubectl_can_i, "delete", "secrets", check=False).stdout.strip() == "no"
        assert can_i(kube, user, "list", "customresourcedefinitions.apiextensions.k8s.io", None)
        assert not can_i(kube, user, "list", "nodes", None)
        assert not can_i(
            kube, user, "patch", "customresourcedefinitions.apiextensions.k8s.io", None
        )
        assert not can_i(
            kube, user, "create", "clusterrolebindings.rbac.authorization.k8s.io", None
        )
        assert can_i(
            kube, user, "update", "leases.coordination.k8s.io", ns, name="rbac-levibot-operator"
        )
        assert not can_i(
            kube, user, "update", "leases.coordination.k8s.io", ns, name="kube-scheduler"
        )
        assert not can_i(kube, user, "create", "leases.coordination.k8s.io", "kube-system")
        for who in ("predictor", "trainer"):
            sa = f"system:serviceaccount:{ns}:rbac-levibot-{who}"
            assert not can_i(kube, sa, "get", "pods", ns)
            assert not can_i(kube, sa, "get", "secrets", ns)
    finally:
        helm(kube, "uninstall", "rbac", "--namespace", ns, "--wait")


def test_watch_namespaces_limit_the_operator(kube: LocalCluster, kube_namespace: str) -> None:
    ns, watched = kube_namespace, f"{kube_namespace}-models"
    ensure_namespace(kube, watched)
    helm(
        kube,
        "install",
        "scoped",
        str(Path(__file__).parents[2] / "charts" / "levibot"),
        "--namespace",
        ns,
        "--set-json",
        f'operator.watchNamespaces=["{watched}"]',
    )
    try:
        user = f"system:serviceaccount:{ns}:scoped-levibot-operator"
        assert can_i(kube, user, "create", "jobs.batch", watched)
        assert not can_i(kube, user, "create", "jobs.batch", "default")
        assert not can_i(kube, user, "list", "modeldeployments.levibot.io", None)  # cluster-wide
    finally:
        helm(kube, "uninstall", "scoped", "--namespace", ns, "--wait")
        kube.kubectl("delete", "namespace", watched, "--wait=false", check=False)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize(
    "leader_election",
    [pytest.param(True, id="lease"), pytest.param(False, id="standalone")],
)
def test_operator_runs_the_example_with_the_charts_serviceaccount(
    kube: LocalCluster, kube_namespace: str, pg_dsn: str, tmp_path: Path, leader_election: bool
) -> None:
    """The operator's command with the chart's env and a token of the chart's ServiceAccount:
    (it takes the Lease and) the example trains, registers and becomes Ready, with no Forbidden."""
    release_ns, md_ns = kube_namespace, f"{kube_namespace}-md"
    ensure_namespace(kube, md_ns)
    election = f"operator.leaderElection.enabled={json.dumps(leader_election)}"
    sets = ["--set-json", "tests.enabled=false", "--set-json", election]
    helm(kube, "install", *install_args("e2e", release_ns, *sets))
    apply_schema(pg_dsn)
    create_db_secret(kube, md_ns, pg_dsn)
    log = tmp_path / "operator.log"
    operator = OperatorProcess(kube, log, **chart_operator_env(kube, release_ns, tmp_path)).start()
    try:
        if leader_election:
            wait_for(lambda: lease_holder(kube, release_ns) == "e2e-test", 30, "the Lease")
        run_example(kube, md_ns, pg_dsn)
    except AssertionError as err:
        raise AssertionError(f"{err}; operator log tail:\n{log.read_text()[-3000:]}") from err
    finally:
        operator.stop()
        helm(kube, "uninstall", "e2e", "--namespace", release_ns, "--wait")
        kube.kubectl("delete", "namespace", md_ns, "--wait=false", check=False)
    # An RBAC denial, not an Event refused by a namespace already being deleted at teardown.
    denials = [line for line in log.read_text().splitlines()
               if "Forbidden" in line and "because it is being terminated" not in line]  # fmt: skip
    assert not denials, denials[:3]
