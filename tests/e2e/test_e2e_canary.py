"""End to end, on the local stack with real predictors, the story `make demo` tells: a Canary
trains v2 and promotes it step by step on model-quality analysis, through an operator SIGKILL and
a PostgreSQL restart mid-rollout; a candidate with a planted miscalibration is rolled back by
analysis, the registry naming the check, its value and threshold; a Prometheus outage holds the
next canary (no promotion, no rollback) until it answers again; a drift injected into the market
rolls a held canary back by the alert, the registry says why, the drifting stable version opens
the retrain canary, and repeated or out-of-order alert deliveries change nothing.

The tests run in file order on one ModelDeployment (examples/demo/), as a rollout does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from levibot_devstack.stack import LocalStack
from levibot_devstack.traffic import BackgroundTraffic
from tests.e2e.support.stack import (
    MD,
    canary_phase_history,
    eventually,
    load_example,
    new_namespace,
    post_alerts,
    register_miscalibrated,
    wait_canary,
    wait_phase,
)
from tests.operator.support.canary.alerts import alert, payload

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.prometheus, pytest.mark.slow]
OUTAGE = "btc-direction-outage"
MISCALIBRATED = "btc-direction-miscalibrated"


@pytest.fixture(scope="module")
def demo(stack: LocalStack) -> Iterator[tuple[str, BackgroundTraffic]]:
    """The demo's ModelDeployment serving v1 with a steady stream of predictions."""
    ns = new_namespace(stack)
    stack.apply(ns, load_example("demo/modeldeployment.yaml"))
    wait_phase(stack, ns, "md", MD, "Ready", timeout=240)
    traffic = stack.start_traffic(ns, MD, rate=30)
    yield ns, traffic
    traffic.stop()
    stack.start_feed()  # back to the undrifted market for whatever runs next
    stack.kube.kubectl("delete", "namespace", ns, "--wait=false")


def stable_of(stack: LocalStack, ns: str) -> str:
    return str(stack.get(ns, "md", MD)["status"]["stableVersion"])


def predictor_pods(stack: LocalStack, ns: str, version: str) -> list[Any]:
    selector = f"levibot.io/version={version},app.kubernetes.io/component=predictor"
    return list(stack.get(ns, "pods", "-l", selector)["items"])


def pod_lives(stack: LocalStack, ns: str, version: str) -> dict[str, int]:
    """Each pod of a version by uid, with its containers' restart count."""
    return {
        pod["metadata"]["uid"]: sum(
            int(s.get("restartCount", 0)) for s in pod["status"].get("containerStatuses", [])
        )
        for pod in predictor_pods(stack, ns, version)
    }


def registry(stack: LocalStack, ns: str) -> dict[str, dict[str, Any]]:
    return {r["version"]: r for r in stack.registry_rows(f"{ns}.{MD}")}


def test_v2_is_promoted_step_by_step_through_an_operator_kill_and_a_database_restart(
    stack: LocalStack, demo: tuple[str, BackgroundTraffic]
) -> None:
    ns, traffic = demo
    stack.apply(ns, load_example("demo/canary-promote.yaml"))
    paused = wait_canary(stack, ns, "btc-direction-v2", "Paused", timeout=180)
    assert (paused["status"]["currentStep"], paused["status"]["achievedWeight"]) == (1, 50)

    def half_on_v2() -> float | None:
        traffic.take_recent()
        time.sleep(4)
        share = traffic.take_recent().share("v2")
        return share if abs(share - 0.5) < 0.2 else None

    eventually(half_on_v2, 30, "half the traffic on v2 (its pods just became ready)")
    candidate_pods = pod_lives(stack, ns, "v2")
    assert candidate_pods

    killed = stack.kill_operator()  # SIGKILL mid-rollout: the kubelet restarts it
    assert stack.postgres is not None
    stack.postgres.stop()  # and the database goes away for a while
    time.sleep(5)
    stack.postgres.start()
    eventually(lambda: stack.operator_restarts(killed) >= 1, 60, "the operator to restart")

    done = wait_canary(stack, ns, "btc-direction-v2", "Succeeded", timeout=420)
    history = canary_phase_history(done)
    steps = [h["step"] for h in history]
    assert steps == sorted(steps), f"the rollout went backwards: {history}"
    reasons = [(h["step"], h["reason"]) for h in history]
    # analysis at step 3 passed into setWeight 100 (step 4); the last one's pass promotes
    assert (3, "AnalysisPassed") in reasons
    assert reasons[-2:] == [(5, "Promoting"), (5, "Promoted")]
    assert stable_of(stack, ns) == "v2"
    rows = registry(stack, ns)
    assert (rows["v2"]["status"], rows["v1"]["status"]) == ("active", "retired")
    # Zero-restart promotion: the candidate's pods serve on as stable, same pods, no restarts.
    assert candidate_pods.items() <= pod_lives(stack, ns, "v2").items()
    eventually(lambda: not predictor_pods(stack, ns, "v1"), 120, "the old stable's pods to go")
    traffic.take_recent()

    def only_v2_stable() -> bool:
        """Every answer since the last look came from v2 labelled stable (the predictors
        re-label themselves within a tick of the ConfigMap's update)."""
        answers = traffic.take_recent().answers
        return sum(answers.values()) >= 10 and set(answers) == {("v2", "stable")}

    eventually(only_v2_stable, 30, "every answer from v2 on the stable track")


def test_a_miscalibrated_candidate_is_rolled_back_by_analysis_naming_the_check(
    stack: LocalStack, demo: tuple[str, BackgroundTraffic]
) -> None:
    ns, traffic = demo
    stable = stable_of(stack, ns)
    register_miscalibrated(stack, f"{ns}.{MD}", like=stable, version="v90")
    canary = load_example("demo/canary-promote.yaml", name=MISCALIBRATED)
    canary["spec"]["candidate"] = {"version": "v90"}
    # Judged as soon as it has 60 resolved outcomes: before the chart's ECE alert (150 resolved)
    # could roll it back first, which is the other, faster path.
    canary["spec"]["steps"] = [{"setWeight": 50}, {"analysis": {"count": 8}}]
    canary["spec"]["analysis"]["inconclusiveLimit"] = 7
    stack.apply(ns, canary)
    done = wait_canary(stack, ns, MISCALIBRATED, "RolledBack", timeout=300)
    status = done["status"]
    assert (status["reason"], status["currentStep"]) == ("AnalysisFailed", 1)
    failed = [c for c in status["checks"] if c["verdict"] == "Fail"]
    assert failed, status["checks"]
    assert {c["name"] for c in failed} <= {"ece", "eceWorseThanStable"}
    assert all(c["value"] > c["threshold"] for c in failed)
    row = registry(stack, ns)["v90"]
    assert row["status"] == "rejected"
    assert f"(threshold <= {failed[0]['threshold']:g})" in row["reason"]
    assert stable_of(stack, ns) == stable
    eventually(lambda: not predictor_pods(stack, ns, "v90"), 120, "the candidate's pods to go")
    traffic.take_recent()
    time.sleep(3)
    assert {v for v, _ in traffic.take_recent().answers} == {stable}


def test_a_prometheus_outage_holds_the_canary_until_metrics_answer_again(
    stack: LocalStack, demo: tuple[str, BackgroundTraffic]
) -> None:
    ns, _ = demo
    stable = stable_of(stack, ns)
    stack.apply(ns, load_example("demo/canary-promote.yaml", name=OUTAGE))
    wait_canary(stack, ns, OUTAGE, "Paused", timeout=180)  # the warm-up pause
    stack.prom.stop()
    try:
        held = wait_canary(stack, ns, OUTAGE, "Paused", timeout=300, reason="AnalysisError")
        assert held["status"]["currentStep"] == 2  # the analysis step
        assert held["status"]["desiredWeight"] == 50
        candidate = held["status"]["candidateVersion"]
        time.sleep(15)  # a while later: still holding, nothing promoted or rejected
        still = stack.get(ns, "canary", OUTAGE)["status"]
        assert (still["phase"], still["currentStep"]) == ("Paused", 2)
        assert stable_of(stack, ns) == stable
        assert registry(stack, ns)[candidate]["status"] == "candidate"
    finally:
        stack.prom.start()
    resumed = wait_canary(stack, ns, OUTAGE, "Succeeded", timeout=420)
    reasons = [h["reason"] for h in canary_phase_history(resumed)]
    assert "MetricsRecovered" in reasons
    assert "AnalysisError" in reasons
    assert stable_of(stack, ns) == candidate


def test_drift_rolls_the_held_canary_back_by_alert_and_opens_the_retrain_canary(
    stack: LocalStack, demo: tuple[str, BackgroundTraffic]
) -> None:
    ns, traffic = demo
    stable = stable_of(stack, ns)
    stack.apply(ns, load_example("demo/canary-hold.yaml"))
    held = wait_canary(stack, ns, "btc-direction-v3", "Paused", timeout=180)
    candidate = held["status"]["candidateVersion"]
    stack.start_feed(drift_from=datetime.now(UTC).isoformat())

    done = wait_canary(stack, ns, "btc-direction-v3", "RolledBack", timeout=480)
    assert done["status"]["reason"] == "AlertFiring"
    assert "LevibotFeatureDriftPSICritical" in done["status"]["message"]
    row = registry(stack, ns)[candidate]
    assert row["status"] == "rejected"
    assert "LevibotFeatureDriftPSICritical" in row["reason"]
    assert stable_of(stack, ns) == stable
    eventually(lambda: not predictor_pods(stack, ns, candidate), 120, "the candidate's pods to go")
    traffic.take_recent()
    time.sleep(3)
    assert {v for v, _ in traffic.take_recent().answers} == {stable}

    retrain = eventually(
        lambda: stack.kube.kubectl("-n", ns, "get", "canary", f"{MD}-drift-{stable}",
                                   check=False).returncode == 0,
        180, "the drifting stable version to open its retrain canary",
    )  # fmt: skip
    assert retrain

    # Alertmanager repeats itself and may deliver out of order: nothing changes any more.
    before = stack.get(ns, "canary", "btc-direction-v3")["status"]
    firing = alert(version=candidate, namespace=ns, alertname="LevibotFeatureDriftPSICritical")
    resolved = {**firing, "status": "resolved", "endsAt": "2026-11-21T12:05:00Z"}
    for body in (payload(firing), payload(firing), payload(resolved), payload(firing)):
        assert post_alerts(stack, body) == [200] * len(stack.operator_pods())
    after = stack.get(ns, "canary", "btc-direction-v3")["status"]
    assert after == before
    assert registry(stack, ns)[candidate]["reason"] == row["reason"]
    canaries = stack.get(ns, "canaries")["items"]
    assert sorted(c["metadata"]["name"] for c in canaries) == sorted(
        ["btc-direction-v2", MISCALIBRATED, OUTAGE, "btc-direction-v3", f"{MD}-drift-{stable}"]
    )
