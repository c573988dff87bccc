"""End to end, on the local stack with real predictors, drift as issue 14 asks (examples/demo/):
a drift injected into the market pauses the running canary (reason MarketDrift, traffic held,
the candidate still a candidate in the registry) instead of rolling it back, and repeated alert
deliveries change nothing while the stable drifts too; once that canary is abandoned, the drift
policy retrains on the drifted market only and its canary (the ModelDeployment's template with
onDifferent evaluate, one judged step) is judged by the paired rules until its verdict: in a
market that stays drifted (the seed market's drift reverses its last minute's moves, which the
stable's momentum gets wrong and a retrain on 6 minutes learns; bench/drift_loop.py), stage 2
shows the retrain at least as good as the stable and it is promoted, the registry saying so.
Stage 2 needs 8 finished outcome blocks of 71 s (~10 min of the canary) before any verdict.
Measured (2 cores): 1,135 s for the test (the stack's start aside): v3 held in 45 s, paused by
MarketDrift 90 s after the drift, the drift canary opened 6 min later, trained in 15 s and
promoted ~10.5 min after its first step. A clean-clone run under heavier load (another suite's
unit tests beside both stacks) was still inconclusive after 12 min (log-loss difference -0.064,
interval [-0.146, 0.018] against the tolerance 0.01) with the demo's former 15-min budget, so
the demo's budget is production's 2 h on its time scale, 24 min, like every other demo time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from levibot_devstack.demo_view import TERMINAL, describe_verdict
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

pytestmark = [
    pytest.mark.cluster, pytest.mark.postgres, pytest.mark.prometheus, pytest.mark.slow,
    pytest.mark.xdist_group("stack-drift"),  # the longest e2e: a stack of its own (Makefile)
]  # fmt: skip
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


def test_market_drift_pauses_the_canary_and_the_drift_loop_promotes_a_retrain(
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
    try:
        eventually(lambda: md_status(stack, ns).get("drift", {}).get("since"), 300,
                   "the ModelDeployment to see its stable version drifting")  # fmt: skip
    except AssertionError as err:
        raise AssertionError(f"{err}\n{drift_evidence(stack, ns)}") from None
    opened = eventually(
        lambda: stack.kube.kubectl("-n", ns, "get", "canary", DRIFT_CANARY,
                                   check=False).returncode == 0,
        600, "the drift loop to open its canary",
    )  # fmt: skip
    assert opened
    spec = stack.get(ns, "canary", DRIFT_CANARY)["spec"]
    assert spec["candidate"]["train"] is True
    # the rows of the drifted market only (360 s at least), their features looking back 301 s
    assert spec["candidate"]["dataWindowSeconds"] >= 360 + 301
    judgement = spec["analysis"]["judgement"]
    assert judgement["agreement"]["onDifferent"] == "evaluate"
    assert (judgement["budget"], judgement["onInconclusive"]) == ("24m", "rollback")
    assert judgement["calibration"]["relativeToStable"] is True
    memory = md_status(stack, ns)["drift"]
    assert (memory["attempts"], memory["canary"]) == (1, DRIFT_CANARY)

    # Judged by the paired rules on the drifted market to its verdict: trained, shadow-scored
    # against the stable, stage 1 against the envelope ("different" goes on to stage 2, since
    # onDifferent is evaluate), stage 2's paired log-loss difference against the tolerance.
    judged = wait_finished(stack, ns, DRIFT_CANARY, timeout=1860)  # the 24-min budget, + 6 min
    status, rows = judged["status"], registry(stack, ns)
    verdict = describe_verdict(judged, rows)
    assert status["phase"] == "Succeeded", verdict
    retrained = status["candidateVersion"]
    checks = {c["name"]: c for c in status.get("checks") or ()}
    assert checks["agreement"]["verdict"] in ("Equivalent", "Different"), verdict
    if checks["agreement"]["verdict"] == "Different":  # stage 2 decided
        stage_two = checks["nonInferiority"]
        assert (stage_two["verdict"], stage_two.get("gating", True)) == ("Pass", True), verdict
    assert (rows[retrained]["status"], rows[retrained]["reason"]) == (
        "active", f"promoted over {stable} by canary"), verdict  # fmt: skip
    assert rows[stable]["status"] == "retired"
    assert eventually(lambda: md_status(stack, ns)["stableVersion"] == retrained, 120,
                      "the ModelDeployment to serve the retrained version as stable")  # fmt: skip
    events = stack.kube.kubectl("-n", ns, "get", "events", "-o", "name",
                                "--field-selector", "reason=DriftRetrain").stdout  # fmt: skip
    assert events.strip()


def drift_evidence(stack: LocalStack, ns: str) -> str:
    """What Prometheus saw over the last 15 minutes, for a failure message: each version's
    highest drift score (every 30 s), its drift alerts' states, and the scrapes that failed."""
    model = f'namespace="{ns}",model="{MD}"'
    lines = [f"status.drift: {md_status(stack, ns).get('drift')}"]
    scores = f"max by (version) (levibot_feature_drift_score{{{model}}})[15m:30s]"
    for series in stack.prom_query(scores):
        values = " ".join(f"{float(v):.2f}" for _, v in series["values"])
        lines.append(f"highest score of {series['metric'].get('version')}: {values}")
    alerts = f'ALERTS{{namespace="{ns}",alertname="{DRIFT_ALERT}"}}[15m]'
    for series in stack.prom_query(alerts):
        label, times = series["metric"], [float(t) for t, _ in series["values"]]
        lines.append(
            f"{label.get('alertstate')} {label.get('version')} {label.get('feature')} "
            f"{label.get('statistic')}: {time.time() - times[0]:.0f} s to "
            f"{time.time() - times[-1]:.0f} s ago, {len(times)} evaluations"
        )
    for series in stack.prom_query(f'count_over_time((up{{namespace="{ns}"}} == 0)[15m:])'):
        lines.append(f"failed scrapes of {series['metric'].get('pod')}: {series['value'][1]}")
    return "\n".join(lines)


def wait_finished(stack: LocalStack, ns: str, name: str, *, timeout: float) -> Any:
    """The canary once terminal (Succeeded, RolledBack or Failed)."""

    def finished() -> Any:
        canary = stack.get(ns, "canary", name)
        return canary if (canary.get("status") or {}).get("phase") in TERMINAL else None

    return eventually(finished, timeout, f"canary/{name}'s verdict")
