"""End to end, on the local stack with real predictors, drift as issue 14 asks (examples/demo/):
a drift injected into the market pauses the running canary (reason MarketDrift, traffic held,
the candidate still a candidate in the registry) instead of rolling it back, and repeated alert
deliveries change nothing while the stable drifts too; once that canary is abandoned, the drift
policy retrains on the drifted market only and its canary (the ModelDeployment's template with
onDifferent evaluate, one judged step here to keep the suite's time) reaches its verdict by the
paired rules: promoted when at least as good as the stable on the drifted market, else rejected
and tried again after the cool-down. Measured here (2 cores): a retrain on 12 minutes of the
drifted seed market was not measurably different from the stable (stage 2's loss difference
+0.001, interval +-0.014 after 11 blocks of 71 s, tolerance 0.01), so its 15-min budget ended
without a verdict and it was rejected; promotion needs a retrain that is better, or more blocks.
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
    wait_canary,
    wait_phase,
)
from tests.operator.support.canary.alerts import alert, payload

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.prometheus, pytest.mark.slow]
HOLD = "btc-direction-v3"
DRIFT_CANARY = f"{MD}-drift-1"
DRIFT_ALERT = "LevibotFeatureDriftScore"


@pytest.fixture(scope="module")
def drifting(stack: LocalStack) -> Iterator[tuple[str, BackgroundTraffic]]:
    """The demo's ModelDeployment serving v1 with a steady stream of predictions; its canary
    template keeps the demo's judgement with one judged step instead of four."""
    ns = new_namespace(stack)
    md = load_example("demo/modeldeployment.yaml")
    md["spec"]["canaryTemplate"]["steps"] = [{"setWeight": 50}, {"analysis": {}}]
    stack.apply(ns, md)
    wait_phase(stack, ns, "md", MD, "Ready", timeout=300)
    traffic = stack.start_traffic(ns, MD, rate=30)
    yield ns, traffic
    traffic.stop()
    stack.start_feed()  # back to the undrifted market for whatever runs next
    stack.kube.kubectl("delete", "namespace", ns, "--wait=false")


def registry(stack: LocalStack, ns: str) -> dict[str, dict[str, Any]]:
    return {r["version"]: r for r in stack.registry_rows(f"{ns}.{MD}")}


def md_status(stack: LocalStack, ns: str) -> dict[str, Any]:
    return dict(stack.get(ns, "md", MD).get("status") or {})


def test_market_drift_pauses_the_canary_and_the_drift_loop_judges_a_retrain(
    stack: LocalStack, drifting: tuple[str, BackgroundTraffic]
) -> None:
    ns, traffic = drifting
    stable = md_status(stack, ns)["stableVersion"]
    stack.apply(ns, load_example("demo/canary-hold.yaml"))
    held = wait_canary(stack, ns, HOLD, "Paused", timeout=240)  # held at 50 % until resumed
    candidate = held["status"]["candidateVersion"]
    stack.start_feed(drift_from=datetime.now(UTC).isoformat())

    paused = wait_canary(stack, ns, HOLD, "Paused", timeout=420, reason="MarketDrift")
    status = paused["status"]
    assert status["desiredWeight"] == 50  # traffic held
    assert DRIFT_ALERT in status["message"]
    assert registry(stack, ns)[candidate]["status"] == "candidate"  # not rejected
    traffic.take_recent()
    time.sleep(4)
    assert {v for v, _ in traffic.take_recent().answers} == {stable, candidate}
    # The candidate's own drift alert while the stable drifts too is the market's: still paused.
    firing = alert(version=candidate, namespace=ns, alertname=DRIFT_ALERT)
    for body in (payload(firing), payload(firing)):
        assert post_alerts(stack, body) == [200] * len(stack.operator_pods())
    still = stack.get(ns, "canary", HOLD)["status"]
    assert (still["phase"], still["reason"]) == ("Paused", "MarketDrift")

    # v3 was trained for the market that is gone: a person abandons it; the registry says so.
    stack.kube.kubectl("-n", ns, "annotate", "canary", HOLD, "levibot.io/abort=now")
    aborted = wait_canary(stack, ns, HOLD, "RolledBack", timeout=60)
    assert aborted["status"]["reason"] == "Aborted"
    reasons = [h["reason"] for h in canary_phase_history(aborted)]
    assert "MarketDrift" in reasons
    assert "AlertFiring" not in reasons
    assert registry(stack, ns)[candidate]["reason"] == "aborted by annotation"

    # The drift loop: it remembers the episode, waits for the drifted stretch, then retrains.
    loop = eventually(lambda: md_status(stack, ns).get("drift", {}).get("since"), 120,
                      "the ModelDeployment to see its stable version drifting")  # fmt: skip
    assert loop
    opened = eventually(
        lambda: stack.kube.kubectl("-n", ns, "get", "canary", DRIFT_CANARY,
                                   check=False).returncode == 0,
        600, "the drift loop to open its canary",
    )  # fmt: skip
    assert opened
    spec = stack.get(ns, "canary", DRIFT_CANARY)["spec"]
    assert spec["candidate"]["train"] is True
    # the rows of the drifted market only (420 s at least), their features looking back 301 s
    assert spec["candidate"]["dataWindowSeconds"] >= 420 + 301
    judgement = spec["analysis"]["judgement"]
    assert judgement["agreement"]["onDifferent"] == "evaluate"
    assert (judgement["budget"], judgement["onInconclusive"]) == ("15m", "rollback")
    memory = md_status(stack, ns)["drift"]
    assert (memory["attempts"], memory["canary"]) == (1, DRIFT_CANARY)

    # Its verdict by the paired rules: promoted when at least as good as the stable on the
    # drifted market, else rejected (out of budget included) and tried again after the cool-down.
    done = wait_canary_verdict(stack, ns, DRIFT_CANARY, timeout=1200)
    status = done["status"]
    retrained = status["candidateVersion"]
    judged = {c["name"]: c for c in status.get("checks") or ()}
    assert "nonInferiority" in judged, status  # stage 2 decided (onDifferent: evaluate)
    rows = registry(stack, ns)
    if status["phase"] == "Succeeded":
        assert md_status(stack, ns)["stableVersion"] == retrained
        assert (rows[retrained]["status"], rows[stable]["status"]) == ("active", "retired")
    else:
        assert status["reason"] in ("JudgementOutOfBudget", "AnalysisFailed"), status
        assert rows[retrained]["status"] == "rejected"
        assert md_status(stack, ns)["stableVersion"] == stable
        # The cool-down (2 min between two openings) is long over: the next attempt, its own name.
        retried = eventually(lambda: md_status(stack, ns)["drift"].get("attempts") == 2, 120,
                             "the loop to open its second attempt")  # fmt: skip
        assert retried
        assert md_status(stack, ns)["drift"]["canary"] == f"{MD}-drift-2"
    events = stack.kube.kubectl("-n", ns, "get", "events", "-o", "name",
                                "--field-selector", "reason=DriftRetrain").stdout  # fmt: skip
    assert events.strip()


def wait_canary_verdict(stack: LocalStack, ns: str, name: str, *, timeout: float) -> Any:
    """The canary once it has a verdict (Succeeded or RolledBack); Failed fails at once."""

    def decided() -> Any:
        canary = stack.get(ns, "canary", name)
        status = canary.get("status") or {}
        if status.get("phase") == "Failed":
            raise AssertionError(f"canary {name} failed: {status.get('message')}")
        return canary if status.get("phase") in ("Succeeded", "RolledBack") else None

    return eventually(decided, timeout, f"canary/{name} to reach a verdict")
