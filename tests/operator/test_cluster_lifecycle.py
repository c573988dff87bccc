"""The operator against the real local control plane (kube-apiserver + kwok) and PostgreSQL:
apply the example -> Job -> registered version -> predictors -> Ready; updates, kill-switch,
SIGKILL in each phase, deletion."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from levibot_devstack.cluster import LocalCluster
from tests.operator.support.cluster import (
    OperatorProcess,
    apply_doc,
    apply_schema,
    condition,
    create_db_secret,
    get_json,
    install_crd,
    load_example,
    register_version,
    registry_status,
    wait_for,
)
from tests.operator.support.plugin.cluster import run_plugin

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.slow]
MD = "btc-direction"


@pytest.fixture
def setup(kube: LocalCluster, kube_namespace: str, pg_dsn: str) -> str:
    install_crd(kube)
    apply_schema(pg_dsn)
    create_db_secret(kube, kube_namespace, pg_dsn)
    return kube_namespace


@pytest.fixture
def operator(kube: LocalCluster, tmp_path: Path) -> Iterator[OperatorProcess]:
    proc = OperatorProcess(
        kube, tmp_path / "operator.log", LEVIBOT_OPERATOR_TRAINING_BACKOFF_SECONDS="1"
    )
    proc.start()
    yield proc
    proc.stop()


def jobs(kube: LocalCluster, ns: str) -> list[dict[str, Any]]:
    return list((get_json(kube, "-n", ns, "jobs") or {}).get("items", []))


def deployments(kube: LocalCluster, ns: str) -> list[dict[str, Any]]:
    return list((get_json(kube, "-n", ns, "deployments") or {}).get("items", []))


def md_body(kube: LocalCluster, ns: str) -> dict[str, Any]:
    return dict(get_json(kube, "-n", ns, "modeldeployment", MD) or {})


def train_and_register(kube: LocalCluster, ns: str, dsn: str, version: str) -> dict[str, Any]:
    """Act as the trainer: once the Job exists, write the registry row."""
    name = f"{MD}-train-{version}-1"
    job = wait_for(lambda: get_json(kube, "-n", ns, "job", name), what=f"job {name}")
    register_version(dsn, f"{ns}.{MD}", version)
    return dict(job)


def wait_ready(kube: LocalCluster, ns: str, version: str) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        body = md_body(kube, ns)
        status = body.get("status") or {}
        ok = status.get("phase") == "Ready" and status.get("stableVersion") == version
        return body if ok else None

    return wait_for(ready, timeout=300, what=f"{MD} Ready with {version}")


def expected_env(ns: str) -> list[dict[str, Any]]:
    secret = {"secretKeyRef": {"name": "levibot-db", "key": "dsn"}}
    values = {
        "MODEL_NAME": f"{ns}.{MD}",
        "VERSION": "v1",
        "MODEL_TYPE": "logisticRegression",
        "HYPERPARAMETERS": json.dumps({"C": 0.5, "max_iter": 500}),
        "CALIBRATION": "sigmoid",
        "FEATURES": json.dumps(["ret_1m", "ret_5m", "vol_1m", "vol_5m", "rsi_14", "zscore_60"]),
        "SYMBOLS": json.dumps(["BTCUSDT", "ETHUSDT"]),
        "HORIZON_SECONDS": "60",
        "DATA_WINDOW_SECONDS": "604800",
        "ENVELOPE_RETRAINS": "8",
        "BUY_THRESHOLD": "0.55",
        "SELL_THRESHOLD": "0.45",
        "FEE_BPS": "10.0",
        "SLIPPAGE_BPS": "5.0",
        "DRIFT_WINDOW_SECONDS": "1800",
        "DRIFT_THIN_SECONDS": "60",
        "DRIFT_INTERVAL_SECONDS": "15",
        "DRIFT_MIN_ROWS": "20",
        "DRIFT_ALERT_FOR_SECONDS": "300",
        "DRIFT_FALSE_ALARMS_PER_DAY": "0.1",
        "RESULT_PATH": "/dev/termination-log",
    }
    env = [{"name": "LEVIBOT_TRAINER_DSN", "valueFrom": secret}]
    return env + [{"name": f"LEVIBOT_TRAINER_{k}", "value": v} for k, v in values.items()]


def assert_trainer_job(job: dict[str, Any], ns: str, md_uid: str) -> None:
    meta, spec = job["metadata"], job["spec"]
    assert meta["labels"]["app.kubernetes.io/component"] == "trainer"
    assert meta["labels"]["levibot.io/modeldeployment"] == MD
    assert meta["labels"]["levibot.io/version"] == "v1"
    owner = meta["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "ModelDeployment",
        MD,
        md_uid,
        True,
    )
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"]) == (1, 1800)
    assert spec["ttlSecondsAfterFinished"] == 86400
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    assert container["command"] == ["python", "-m", "levibot_trainer", "train"]
    assert container["env"] == expected_env(ns)
    assert container["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"memory": "2Gi"},
    }
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_example_trains_registers_serves_and_reports_ready(
    kube: LocalCluster, setup: str, pg_dsn: str, operator: OperatorProcess
) -> None:
    ns = setup
    apply_doc(kube, ns, load_example())
    job = train_and_register(kube, ns, pg_dsn, "v1")
    assert_trainer_job(job, ns, md_body(kube, ns)["metadata"]["uid"])
    body = wait_ready(kube, ns, "v1")

    status = body["status"]
    assert condition(body, "Ready")["status"] == "True"
    assert condition(body, "KillSwitch")["status"] == "False"
    assert [v["version"] for v in status["versions"]] == ["v1"]
    assert status["versions"][0]["metrics"]["accuracy"] == pytest.approx(0.61)
    (dep,) = deployments(kube, ns)
    assert dep["metadata"]["name"] == f"{MD}-v1"
    assert dep["status"]["readyReplicas"] == 2
    pod = dep["spec"]["template"]
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    (container,) = pod["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    service = get_json(kube, "-n", ns, "service", MD)
    assert service["spec"]["selector"] == {
        "levibot.io/modeldeployment": MD,
        "app.kubernetes.io/component": "predictor",
    }
    table = kube.kubectl("-n", ns, "get", "md").stdout
    assert MD in table
    assert "Ready" in table
    assert "v1" in table
    assert wait_for(lambda: registry_status(pg_dsn, f"{ns}.{MD}", "v1") == "active", what="active")


def test_updates_in_place_kill_switch_and_retraining(
    kube: LocalCluster, setup: str, pg_dsn: str, operator: OperatorProcess
) -> None:
    ns = setup
    doc = load_example()
    apply_doc(kube, ns, doc)
    train_and_register(kube, ns, pg_dsn, "v1")
    wait_ready(kube, ns, "v1")
    template = deployments(kube, ns)[0]["spec"]["template"]

    kube.kubectl("-n", ns, "patch", "md", MD, "--type=merge", "-p", '{"spec":{"killSwitch":true}}')
    wait_for(
        lambda: (get_json(kube, "-n", ns, "configmap", f"{MD}-killswitch") or {}).get("data"),
        what="configmap",
    )
    wait_for(lambda: switch_is(kube, ns, "true"), what="kill-switch on")
    body = wait_for(lambda: cond_is(kube, ns, "KillSwitch", "True"), what="KillSwitch=True")
    assert body["status"]["phase"] == "Ready"
    assert deployments(kube, ns)[0]["spec"]["template"] == template  # no restart storm

    kube.kubectl(
        "-n",
        ns,
        "patch",
        "md",
        MD,
        "--type=merge",
        "-p",
        '{"spec":{"killSwitch":false,"serving":{"replicas":3}}}',
    )
    wait_for(lambda: switch_is(kube, ns, "false"), what="kill-switch off")
    wait_for(lambda: deployments(kube, ns)[0]["spec"]["replicas"] == 3, what="3 replicas")
    assert len(jobs(kube, ns)) == 1  # replicas/kill-switch need no new model

    patch = '{"spec":{"model":{"hyperparameters":{"C":0.25}}}}'
    kube.kubectl("-n", ns, "patch", "md", MD, "--type=merge", "-p", patch)
    train_and_register(kube, ns, pg_dsn, "v2")
    # No version becomes stable ungated: the retrain opens a Canary from the template.
    canary = wait_for(lambda: get_json(kube, "-n", ns, "canary", f"{MD}-v2"), what="v2 canary")
    assert canary["metadata"]["labels"]["levibot.io/trigger"] == "specChange"
    assert canary["spec"]["candidate"] == {"version": "v2"}
    assert md_body(kube, ns)["status"]["stableVersion"] == "v1"
    kube.kubectl("-n", ns, "annotate", "canary", f"{MD}-v2", "levibot.io/promote=now")
    body = wait_ready(kube, ns, "v2")
    assert [v["version"] for v in body["status"]["versions"]] == ["v1", "v2"]
    wait_for(
        lambda: [d["metadata"]["name"] for d in deployments(kube, ns)] == [f"{MD}-v2"],
        what="v1 retired",
    )
    assert wait_for(
        lambda: registry_status(pg_dsn, f"{ns}.{MD}", "v1") == "retired", what="retired"
    )

    # `kubectl levibot undo --now`: v1 stable again at once, no canary, no retraining (issue 16).
    out = run_plugin(kube, "undo", MD, "-n", ns, "--now")
    assert out.returncode == 0, out.stderr
    wait_ready(kube, ns, "v1")
    wait_for(
        lambda: [d["metadata"]["name"] for d in deployments(kube, ns)] == [f"{MD}-v1"],
        what="v2 retired by the undo",
    )
    assert wait_for(lambda: registry_status(pg_dsn, f"{ns}.{MD}", "v1") == "active", what="v1")
    assert len(jobs(kube, ns)) == 2


def switch_is(kube: LocalCluster, ns: str, value: str) -> bool:
    data = (get_json(kube, "-n", ns, "configmap", f"{MD}-killswitch") or {}).get("data") or {}
    return data.get("enabled") == value


def cond_is(kube: LocalCluster, ns: str, kind: str, value: str) -> dict[str, Any] | None:
    body = md_body(kube, ns)
    found = condition(body, kind)
    return body if found and found["status"] == value else None


def test_sigkill_in_each_phase_converges_without_duplicates(
    kube: LocalCluster, setup: str, pg_dsn: str, tmp_path: Path
) -> None:
    ns = setup
    op = OperatorProcess(kube, tmp_path / "op.log").start()
    try:
        apply_doc(kube, ns, load_example())
        wait_for(lambda: md_body(kube, ns).get("status"), what="status recorded")
        op.kill()  # phase: version recorded, Job maybe not yet
        op.start()
        train_and_register(kube, ns, pg_dsn, "v1")
        op.kill()  # phase: Job created / completing
        op.start()
        wait_for(lambda: deployments(kube, ns), timeout=300, what="deployment")
        op.kill()  # phase: predictors deploying
        op.start()
        wait_ready(kube, ns, "v1")
        op.kill()  # phase: Ready
        op.start()
        wait_for(lambda: cond_is(kube, ns, "Ready", "True"), what="still ready")
    except AssertionError:
        print(kube.kubectl("-n", ns, "get", "jobs,pods,deployments,md", "-o", "yaml").stdout)
        raise
    finally:
        op.stop()
    assert [j["metadata"]["name"] for j in jobs(kube, ns)] == [f"{MD}-train-v1-1"]
    assert [d["metadata"]["name"] for d in deployments(kube, ns)] == [f"{MD}-v1"]


def test_deleting_the_modeldeployment_removes_everything_it_owns(
    kube: LocalCluster, setup: str, pg_dsn: str, operator: OperatorProcess
) -> None:
    ns = setup
    apply_doc(kube, ns, load_example())
    train_and_register(kube, ns, pg_dsn, "v1")
    wait_ready(kube, ns, "v1")
    kube.kubectl("-n", ns, "delete", "md", MD, "--wait=true", "--timeout=60s")
    selector = f"levibot.io/modeldeployment={MD}"

    def gone() -> bool:
        out = kube.kubectl("-n", ns, "get", "jobs,deployments,replicasets,services,configmaps,pods",
                           "-l", selector, "-o", "name").stdout  # fmt: skip
        return not out.strip()

    assert wait_for(gone, timeout=120, what="owned objects garbage-collected")


def test_spec_the_schema_cannot_catch_gets_a_condition_and_no_objects(
    kube: LocalCluster, setup: str, operator: OperatorProcess
) -> None:
    ns = setup
    doc = load_example()
    doc["spec"]["training"]["schedule"] = "0 2 30 2 *"  # valid fields, but 30 February never comes
    apply_doc(kube, ns, doc)
    body = wait_for(lambda: cond_is(kube, ns, "Ready", "False"), what="condition")
    ready = condition(body, "Ready")
    assert ready["reason"] == "InvalidSpec"
    assert "spec.training.schedule" in ready["message"]
    assert body["status"]["phase"] == "Failed"
    assert jobs(kube, ns) == []
    assert deployments(kube, ns) == []
    assert get_json(kube, "-n", ns, "service", MD) is None
