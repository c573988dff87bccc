"""The Canary against the real local control plane (kube-apiserver + kwok), a REAL Prometheus
scraping a synthetic per-version exporter, and PostgreSQL: promotion through every step, rollback
by analysis, inconclusive waits, restart mid-canary, webhook auth and the alert path, the Gateway
API provider. tests/e2e/test_e2e_canary.py proves promotion and a killed operator again with real
predictors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from levibot_devstack.cluster import LocalCluster
from levibot_devstack.services import PrometheusServer
from tests.operator.support.canary.cluster import (
    CANARY,
    MD,
    canary_doc,
    canary_state,
    feed,
    install_httproute_crd,
    post_alert,
    prepare_namespace,
    replicas_of,
    route_weights,
    serve_v1,
    wait_phase,
)
from tests.operator.support.canary.exporter import PredictorMetrics, scrape_config, serve_metrics
from tests.operator.support.canary.notify import NotificationReceiver, serve_notifications
from tests.operator.support.cluster import (
    OperatorProcess,
    apply_doc,
    get_json,
    register_version,
    registry_status,
    wait_for,
)

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.prometheus, pytest.mark.slow]
ANALYSIS = {"analysis": {}}
PAUSE = {"pause": {"untilResumed": True}}


def wait_condition(kube: LocalCluster, ns: str, condition: str) -> str:
    """`kubectl wait --for=condition=...` on the canary (as the README shows it)."""
    args = ("wait", f"--for=condition={condition}", f"canary/{CANARY}", "--timeout=30s")
    return kube.kubectl("-n", ns, *args).stdout


@pytest.fixture
def exporter(prometheus: PrometheusServer, kube_namespace: str) -> Iterator[PredictorMetrics]:
    with serve_metrics() as metrics:
        prometheus.reload(scrape_config(metrics.port, kube_namespace))
        yield replace(metrics, prometheus_url=prometheus.url)


@pytest.fixture
def notifications(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[NotificationReceiver | None]:
    """The notification receiver a test asks for by indirect parametrization: "up" listens,
    "down" names a port where nothing listens; without it the operator sends no notifications."""
    mode = getattr(request, "param", None)
    if mode is None:
        yield None
        return
    with serve_notifications(tmp_path, listening=mode == "up") as receiver:
        yield receiver


@pytest.fixture
def operator(
    kube: LocalCluster,
    tmp_path: Path,
    prometheus: PrometheusServer,
    notifications: NotificationReceiver | None,
) -> Iterator[OperatorProcess]:
    # A receiver that is down gets retries whose backoff alone would outlast any test.
    slow = {"retries": "10", "backoff_seconds": "60", "timeout_seconds": "30"}
    notify = {} if notifications is None else notifications.env(**slow)
    proc = OperatorProcess(
        kube,
        tmp_path / "operator.log",
        LEVIBOT_OPERATOR_PROMETHEUS_URL=prometheus.url,
        LEVIBOT_OPERATOR_CANARY_RESYNC_SECONDS="1",
        **notify,
    ).start()
    yield proc
    proc.stop()


@pytest.fixture
def serving(kube: LocalCluster, kube_namespace: str, pg_dsn: str, operator: OperatorProcess) -> str:
    """A namespace whose ModelDeployment serves v1 (two replicas), with v2 registered."""
    del operator
    prepare_namespace(kube, kube_namespace, pg_dsn)
    serve_v1(kube, kube_namespace, pg_dsn)
    register_version(pg_dsn, f"{kube_namespace}.{MD}", "v2")
    return kube_namespace


def test_healthy_candidate_is_promoted_through_every_step(
    kube: LocalCluster, serving: str, pg_dsn: str, exporter: PredictorMetrics
) -> None:
    ns = serving
    feed(exporter)
    steps = [{"setWeight": 25}, ANALYSIS, {"setWeight": 50}, ANALYSIS]
    apply_doc(kube, ns, canary_doc(steps))
    seen: set[tuple[int, int, int | None]] = set()

    def promoted() -> bool:
        status = canary_state(kube, ns)
        if status.get("phase") == "Progressing":
            weight = int(status.get("desiredWeight", 0))
            seen.add((int(status["currentStep"]), weight, replicas_of(kube, ns, "v2")))
        return status.get("phase") == "Succeeded"

    wait_for(promoted, timeout=180, what="promotion")
    # At each analysis step the candidate ran at the step's weight beside 2 stable replicas.
    assert (1, 25, 1) in seen
    assert (3, 50, 2) in seen
    md = get_json(kube, "-n", ns, "md", MD)
    assert md["status"]["stableVersion"] == "v2"
    wait_for(lambda: replicas_of(kube, ns, "v1") is None, what="old stable retired")
    track = get_json(kube, "-n", ns, "deployment", f"{MD}-v2")["metadata"]["labels"]
    assert track["levibot.io/track"] == "stable"
    assert registry_status(pg_dsn, f"{ns}.{MD}", "v2") == "active"
    assert registry_status(pg_dsn, f"{ns}.{MD}", "v1") == "retired"


def roll_back_by_analysis(
    kube: LocalCluster, ns: str, exporter: PredictorMetrics
) -> dict[str, Any]:
    """A miscalibrated candidate (ECE 0.12) analysed at 25 %: its status once rolled back."""
    feed(exporter, ece=0.12)
    apply_doc(kube, ns, canary_doc([{"setWeight": 25}, ANALYSIS, {"setWeight": 100}]))
    status = wait_phase(kube, ns, "RolledBack", "Succeeded")
    assert (status["phase"], status["reason"]) == ("RolledBack", "AnalysisFailed")
    return status


def test_miscalibrated_candidate_is_rolled_back_by_analysis(
    kube: LocalCluster, serving: str, pg_dsn: str, exporter: PredictorMetrics
) -> None:
    ns = serving
    status = roll_back_by_analysis(kube, ns, exporter)
    assert "ece=0.12 (threshold <= 0.06)" in status["message"]
    assert "condition met" in wait_condition(kube, ns, "RolledBack")
    assert wait_for(lambda: replicas_of(kube, ns, "v2") == 0, what="candidate at zero")
    assert replicas_of(kube, ns, "v1") == 2
    assert wait_for(lambda: registry_status(pg_dsn, f"{ns}.{MD}", "v2") == "rejected")
    events = get_json(kube, "-n", ns, "events", "--field-selector", f"involvedObject.name={CANARY}")
    messages = [e["message"] for e in events["items"] if e["reason"] == "AnalysisFailed"]
    assert any("ece=0.12" in m for m in messages)


@pytest.mark.parametrize("notifications", ["up"], indirect=True)
def test_a_rollback_is_notified_to_the_webhook_with_its_token(
    kube: LocalCluster,
    serving: str,
    exporter: PredictorMetrics,
    notifications: NotificationReceiver,
) -> None:
    ns = serving
    roll_back_by_analysis(kube, ns, exporter)
    authorization, notice = wait_for(lambda: notifications.find("rolledBack"), what="notice")
    assert authorization == f"Bearer {notifications.token}"
    assert notice["namespace"] == ns
    assert (notice["name"], notice["target"], notice["candidateVersion"]) == (CANARY, MD, "v2")
    assert (notice["phase"], notice["reason"]) == ("RolledBack", "AnalysisFailed")


@pytest.mark.parametrize("notifications", ["down"], indirect=True)
def test_a_rollback_completes_while_the_notification_receiver_is_down(
    kube: LocalCluster,
    serving: str,
    operator: OperatorProcess,
    exporter: PredictorMetrics,
    notifications: NotificationReceiver,
) -> None:
    ns = serving
    started = time.monotonic()
    roll_back_by_analysis(kube, ns, exporter)
    assert wait_for(lambda: replicas_of(kube, ns, "v2") == 0, what="candidate at zero")
    assert replicas_of(kube, ns, "v1") == 2
    print(f"\nrolled back with the receiver down in {time.monotonic() - started:.1f} s")
    # The notifier did try (and now waits out a 60-s backoff), beside the rollback, not before.
    failed = "notification attempt failed"
    assert wait_for(lambda: failed in operator.log_path.read_text(), what="a failed attempt")


def test_too_few_samples_waits_and_never_promotes(
    kube: LocalCluster, serving: str, pg_dsn: str, exporter: PredictorMetrics
) -> None:
    ns = serving
    feed(exporter, samples=12)
    apply_doc(kube, ns, canary_doc([{"setWeight": 25}, ANALYSIS, {"setWeight": 100}]))
    status = wait_phase(kube, ns, "Paused", "Succeeded", "RolledBack")
    assert (status["phase"], status["reason"]) == ("Paused", "AnalysisInconclusive")
    samples = status["checks"][0]
    assert (samples["name"], samples["value"], samples["verdict"]) == (
        "samples",
        12,
        "Inconclusive",
    )
    time.sleep(5)  # a while later: still waiting at 25 %, never promoted
    assert canary_state(kube, ns)["phase"] == "Paused"
    assert replicas_of(kube, ns, "v2") == 1
    assert registry_status(pg_dsn, f"{ns}.{MD}", "v2") == "candidate"


def test_restart_mid_canary_resumes_at_the_same_step(
    kube: LocalCluster, serving: str, operator: OperatorProcess, exporter: PredictorMetrics
) -> None:
    ns = serving
    feed(exporter)
    apply_doc(kube, ns, canary_doc([{"setWeight": 25}, PAUSE, {"setWeight": 50}, PAUSE]))
    before = wait_phase(kube, ns, "Paused")
    assert before["currentStep"] == 1
    operator.kill()
    operator.start()
    time.sleep(3)  # the restarted operator has decided again by now
    after = canary_state(kube, ns)
    assert (after["phase"], after["currentStep"], after["history"]) == (
        "Paused",
        1,
        before["history"],
    )
    kube.kubectl("-n", ns, "annotate", "canary", CANARY, "levibot.io/resume=r1")

    def at_50() -> bool:
        status = canary_state(kube, ns)
        return status.get("currentStep") == 3 and replicas_of(kube, ns, "v2") == 2

    wait_for(at_50, timeout=60, what="resumed to the 50 % step")


def test_wrong_token_is_refused_and_an_alert_rolls_back_fast(
    kube: LocalCluster, serving: str, operator: OperatorProcess, pg_dsn: str
) -> None:
    ns = serving
    apply_doc(kube, ns, canary_doc([{"setWeight": 25}, PAUSE, {"setWeight": 100}]))
    before = wait_phase(kube, ns, "Paused")
    wait_for(lambda: replicas_of(kube, ns, "v2") == 1, what="candidate at 25 %")

    code, _ = post_alert(operator.webhook_url, "wrong-token", ns=ns)
    assert code == 401
    time.sleep(1)
    assert canary_state(kube, ns)["history"] == before["history"]
    assert replicas_of(kube, ns, "v2") == 1

    code, latency = post_alert(operator.webhook_url, operator.token, ns=ns)
    assert code == 200
    # The webhook answers after the rollback is written: status first, then the candidate.
    status = canary_state(kube, ns)
    assert (status["phase"], status["reason"]) == ("RolledBack", "AlertFiring")
    assert replicas_of(kube, ns, "v2") == 0
    print(f"\nalert received -> rollback applied: {latency * 1000:.0f} ms")
    assert wait_for(lambda: registry_status(pg_dsn, f"{ns}.{MD}", "v2") == "rejected")


def test_gateway_provider_moves_httproute_weights_step_by_step(
    kube: LocalCluster,
    kube_namespace: str,
    pg_dsn: str,
    operator: OperatorProcess,
    exporter: PredictorMetrics,
) -> None:
    ns = kube_namespace
    del operator
    install_httproute_crd(kube)
    prepare_namespace(kube, ns, pg_dsn)
    gateway = {"provider": "gatewayAPI", "gatewayAPI": {"parentRefs": [{"name": "public"}]}}
    serve_v1(kube, ns, pg_dsn, traffic=gateway)
    assert wait_for(lambda: route_weights(kube, ns) == {f"{MD}-v1": 100}, what="stable route")
    register_version(pg_dsn, f"{ns}.{MD}", "v2")
    feed(exporter)
    doc = canary_doc([{"setWeight": 25}, ANALYSIS, {"setWeight": 50}, ANALYSIS])
    doc["spec"]["shadow"] = {"percent": 10}
    apply_doc(kube, ns, doc)
    seen: set[tuple[int, int, int]] = set()

    def promoted() -> bool:
        status = canary_state(kube, ns)
        weights = route_weights(kube, ns)
        if status.get("phase") == "Progressing" and f"{MD}-v2" in weights:
            seen.add((int(status["currentStep"]), weights[f"{MD}-v1"], weights[f"{MD}-v2"]))
        return status.get("phase") == "Succeeded"

    wait_for(promoted, timeout=180, what="promotion")
    assert "condition met" in wait_condition(kube, ns, "Promoted")
    assert (1, 75, 25) in seen
    assert (3, 50, 50) in seen
    assert wait_for(lambda: route_weights(kube, ns) == {f"{MD}-v2": 100}, what="route to v2")
    assert get_json(kube, "-n", ns, "service", f"{MD}-v2")["spec"]["selector"] == {
        "levibot.io/modeldeployment": MD,
        "app.kubernetes.io/component": "predictor",
        "levibot.io/version": "v2",
    }


def test_deleting_a_live_canary_scales_the_candidate_down_before_it_goes(
    kube: LocalCluster, serving: str, pg_dsn: str
) -> None:
    ns = serving
    apply_doc(kube, ns, canary_doc([{"setWeight": 25}, PAUSE, {"setWeight": 100}]))
    wait_phase(kube, ns, "Paused")
    wait_for(lambda: replicas_of(kube, ns, "v2") == 1, what="candidate at 25 %")
    finalizers = get_json(kube, "-n", ns, "canary", CANARY)["metadata"].get("finalizers", [])
    assert finalizers  # kopf's finalizer guards the deletion
    kube.kubectl("-n", ns, "delete", "canary", CANARY, "--wait=false")
    assert wait_for(lambda: get_json(kube, "-n", ns, "canary", CANARY) is None, what="gone")
    assert replicas_of(kube, ns, "v2") == 0  # scaled down before the finalizer was removed
    assert replicas_of(kube, ns, "v1") == 2
    assert registry_status(pg_dsn, f"{ns}.{MD}", "v2") == "rejected"
