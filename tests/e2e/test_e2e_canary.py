"""End to end, on the local stack with real predictors, the story `make demo` tells, under the
production judgement on the demo's time scale (examples/demo/): a Canary trains v2 and promotes it
step by step, both versions scoring every request in shadow, through an operator SIGKILL and a
PostgreSQL restart mid-analysis, its second analysis pooling the rows measured since the first
step; a candidate with a planted miscalibration, judged in shadow at 0 % live weight, is rolled
back by the judgement, status and registry naming the check, its estimate, its interval and its
threshold; a Prometheus outage holds the next canary (no promotion, no rollback) until it answers
again. Drift (a paused canary, the drift loop's retrain) is tests/e2e/test_e2e_drift.py.

The tests run in file order on one ModelDeployment (examples/demo/), as a rollout does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
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
    register_miscalibrated,
    wait_canary,
    wait_phase,
)

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


def wait_step(stack: LocalStack, ns: str, name: str, index: int, *, timeout: float) -> Any:
    """The canary once it is Progressing at step ``index``; a terminal phase fails at once."""

    def reached() -> Any:
        canary = stack.get(ns, "canary", name)
        status = canary.get("status") or {}
        if status.get("phase") in {"Succeeded", "RolledBack", "Failed"}:
            raise AssertionError(f"canary {name} ended {status['phase']}: {status.get('message')}")
        at = (status.get("phase"), status.get("currentStep"))
        return canary if at == ("Progressing", index) else None

    return eventually(reached, timeout, f"canary/{name} Progressing at step {index + 1}")


def entered_at(history: list[dict[str, Any]], index: int) -> datetime:
    """When the canary last entered step ``index``."""
    return datetime.fromisoformat([h for h in history if h["step"] == index][-1]["time"])


def describe(check: dict[str, Any]) -> str:
    """A check as the operator describes it in a rollback's message (CheckVerdict.describe)."""
    value = f"{check['value']:.4g}"
    if "lower" in check or "upper" in check:
        value += f" [{check['lower']:.4g}, {check['upper']:.4g}]"
    return f"{check['name']}={value} (threshold {check['comparison']} {check['threshold']:g})"


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
    measuring = wait_step(stack, ns, "btc-direction-v2", 1, timeout=180)  # the first analysis
    assert measuring["status"]["achievedWeight"] == 50

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

    done = wait_canary(stack, ns, "btc-direction-v2", "Succeeded", timeout=600)
    history = canary_phase_history(done)
    steps = [h["step"] for h in history]
    assert steps == sorted(steps), f"the rollout went backwards: {history}"
    reasons = [(h["step"], h["reason"]) for h in history]
    # analysis at step 2 passed into setWeight 100 (step 3); the last one's pass promotes
    assert (2, "AnalysisPassed") in reasons
    assert reasons[-2:] == [(4, "Promoting"), (4, "Promoted")]
    # Judged: stage 1 equivalent within the envelope, the calibration test passed.
    checks = {c["name"]: c for c in done["status"]["checks"]}
    assert checks["agreement"]["verdict"] == "Equivalent"
    assert checks["agreement"]["upper"] <= checks["agreement"]["threshold"]
    assert checks["calibration"]["verdict"] == "Pass"
    assert checks["calibration"]["nEff"] >= 4
    # One pool of rows since the first step: the second analysis needed no new blocks.
    since = datetime.fromisoformat(done["status"]["judgement"]["since"])
    assert since == entered_at(history, 0)
    second = entered_at(history, 3)
    promoting = datetime.fromisoformat(history[-2]["time"])
    assert (promoting - second).total_seconds() < 120, history
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
    # Judged at 0 % live weight: the stable's pods score v90 in shadow on every request, so no
    # user is served by it and the chart's ECE alert (the other path) has nothing to see.
    canary["spec"]["steps"] = [{"analysis": {}}]
    stack.apply(ns, canary)
    done = wait_canary(stack, ns, MISCALIBRATED, "RolledBack", timeout=480)
    status = done["status"]
    assert (status["reason"], status["currentStep"]) == ("AnalysisFailed", 0)
    failed = [c for c in status["checks"] if c["verdict"] in ("Fail", "Different")]
    assert len(failed) == 1, status["checks"]
    [check] = failed
    assert check["name"] in ("agreement", "calibration"), check
    if check["name"] == "agreement":  # stage 1: its whole interval above the envelope
        assert check["threshold"] < check["lower"] <= check["upper"]
        assert check["nEff"] >= 13
    else:  # the calibration test: its p-value below the per-look alpha
        assert check["value"] < check["threshold"]
    assert status["message"] == f"analysis failed: {describe(check)}"
    row = registry(stack, ns)["v90"]
    assert row["status"] == "rejected"
    assert describe(check) in row["reason"]
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
    wait_step(stack, ns, OUTAGE, 1, timeout=180)  # the first analysis, filling its blocks
    stack.prom.stop()
    try:
        held = wait_canary(stack, ns, OUTAGE, "Paused", timeout=300, reason="AnalysisError")
        assert held["status"]["currentStep"] == 1  # the analysis step
        assert held["status"]["desiredWeight"] == 50
        candidate = held["status"]["candidateVersion"]
        time.sleep(15)  # a while later: still holding, nothing promoted or rejected
        still = stack.get(ns, "canary", OUTAGE)["status"]
        assert (still["phase"], still["currentStep"]) == ("Paused", 1)
        assert stable_of(stack, ns) == stable
        assert registry(stack, ns)[candidate]["status"] == "candidate"
    finally:
        stack.prom.start()
    resumed = wait_canary(stack, ns, OUTAGE, "Succeeded", timeout=600)
    reasons = [h["reason"] for h in canary_phase_history(resumed)]
    assert "MetricsRecovered" in reasons
    assert "AnalysisError" in reasons
    assert stable_of(stack, ns) == candidate
