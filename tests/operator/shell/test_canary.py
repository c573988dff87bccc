"""The canary shell against the recording fake API: the exact writes of every transition
(step weights, promotion, rollback, halt, resume, alerts, conflicts, invalid spec)."""

from __future__ import annotations

import copy

import pytest

from levibot_operator.adapters import kube
from levibot_operator.core.alerts.payload import AlertTarget
from levibot_operator.core.canary.analysis import Query
from levibot_operator.errors import InvalidSpecError
from levibot_operator.shell.alerts import AlertHandler
from levibot_operator.shell.canary import CanaryReconciler
from tests.operator.support.canary.handlers import (
    CANARY,
    CANARY_PATH,
    CANDIDATE_PATH,
    MD,
    MD_PATH,
    NS,
    Clock,
    RegistryRecorder,
    ScriptedPrometheus,
    build_world,
    canary_body,
    canary_status,
    events,
    make_ready,
    writes,
)
from tests.operator.support.fakeapi import FakeApi

STATUS = ("PATCH", CANARY_PATH + "/status")
CANDIDATE = ("PATCH", CANDIDATE_PATH)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> RegistryRecorder:
    rec = RegistryRecorder()
    rec.install(monkeypatch)
    return rec


@pytest.fixture
def prometheus() -> ScriptedPrometheus:
    return ScriptedPrometheus()


@pytest.fixture
def world(
    prometheus: ScriptedPrometheus, recorder: RegistryRecorder
) -> tuple[FakeApi, CanaryReconciler, Clock]:
    del recorder
    return build_world(prometheus)


def replicas(api: FakeApi) -> int:
    return int(api.store[CANDIDATE_PATH]["spec"]["replicas"])


async def to_analysis(api: FakeApi, rec: CanaryReconciler) -> None:
    """Pending → setWeight 25 → candidate ready → analysis step."""
    await rec.reconcile_named(NS, CANARY)
    make_ready(api, CANDIDATE_PATH)
    await rec.reconcile_named(NS, CANARY)
    assert (canary_status(api)["phase"], canary_status(api)["currentStep"]) == ("Progressing", 1)
    writes(api)


async def test_first_decision_writes_status_then_the_weighted_candidate(world: tuple) -> None:
    api, rec, _ = world
    delay = await rec.reconcile_named(NS, CANARY)
    assert writes(api) == [STATUS, CANDIDATE]
    status = canary_status(api)
    assert (status["phase"], status["desiredWeight"], status["stableVersion"]) == (
        "Progressing",
        25,
        "v1",
    )
    # 25 % beside two stable replicas: one candidate pod (achieved 33 %: the one-pod floor).
    assert replicas(api) == 1
    assert api.store[CANDIDATE_PATH]["metadata"]["labels"]["levibot.io/track"] == "canary"
    assert delay == 0.0


async def test_unavailable_candidate_waits_without_moving_on(world: tuple) -> None:
    api, rec, _ = world
    await rec.reconcile_named(NS, CANARY)
    writes(api)
    await rec.reconcile_named(NS, CANARY)
    assert writes(api) == [CANDIDATE]  # the same apply again, no status change
    assert canary_status(api)["currentStep"] == 0


async def test_steps_carry_their_weights_through_analysis(world: tuple) -> None:
    api, rec, clock = world
    await to_analysis(api, rec)
    assert canary_status(api)["achievedWeight"] == pytest.approx(100 / 3)
    clock.advance(60)
    await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["analysis"]["passes"] == 1
    clock.advance(60)
    await rec.reconcile_named(NS, CANARY)
    status = canary_status(api)
    assert (status["currentStep"], status["desiredWeight"]) == (2, 50)
    assert replicas(api) == 2  # 50 % beside two stable replicas
    assert writes(api) == [STATUS, CANDIDATE, STATUS, CANDIDATE]
    assert [c["verdict"] for c in status["checks"]] == ["Pass", "Pass", "Pass"]


async def test_resume_then_promotion_hands_the_version_to_the_target(
    world: tuple, recorder: RegistryRecorder
) -> None:
    api, rec, clock = world
    await to_analysis(api, rec)
    for _ in range(2):
        clock.advance(60)
        await rec.reconcile_named(NS, CANARY)
    make_ready(api, CANDIDATE_PATH)
    await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["phase"] == "Paused"
    writes(api)
    await rec.reconcile_named(NS, CANARY)
    assert writes(api) == [CANDIDATE]  # paused until resumed: nothing moves
    api.store[CANARY_PATH]["metadata"]["annotations"] = {"levibot.io/resume": "r1"}
    await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["phase"] == "Promoting"
    assert writes(api) == [STATUS, CANDIDATE]
    make_ready(api, CANDIDATE_PATH)
    await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["phase"] == "Succeeded"
    assert writes(api)[:2] == [STATUS, ("PATCH", MD_PATH + "/status")]
    assert api.store[MD_PATH]["status"]["stableVersion"] == "v2"
    assert api.store[CANDIDATE_PATH]["metadata"]["labels"]["levibot.io/track"] == "stable"
    assert ("v2", "active", "promoted over v1 by canary") in recorder.statuses
    assert ("v1", "retired", "replaced by v2") in recorder.statuses


async def test_promotion_never_undoes_a_newer_stable_version(world: tuple) -> None:
    api, rec, _ = world
    body = api.store[CANARY_PATH]
    body["status"] = {"phase": "Succeeded", "stableVersion": "v1", "candidateVersion": "v2"}
    api.store[MD_PATH]["status"]["stableVersion"] = "v3"
    assert await rec.reconcile_named(NS, CANARY) is None
    assert ("PATCH", MD_PATH + "/status") not in writes(api)
    assert api.store[MD_PATH]["status"]["stableVersion"] == "v3"


async def test_failing_analysis_rolls_back_and_rejects_with_the_check(
    world: tuple, prometheus: ScriptedPrometheus, recorder: RegistryRecorder
) -> None:
    api, rec, clock = world
    await to_analysis(api, rec)
    prometheus.values[Query.ECE] = 0.091
    clock.advance(60)
    # The candidate's pod is still ready: observed again until the weight settles (issue 12, 5).
    assert await rec.reconcile_named(NS, CANARY) == 5.0
    status = canary_status(api)
    assert (status["phase"], status["desiredWeight"]) == ("RolledBack", 0)
    assert writes(api) == [STATUS, CANDIDATE]
    assert replicas(api) == 0
    (rejected,) = recorder.statuses
    assert rejected[:2] == ("v2", "rejected")
    assert "ece=0.091 (threshold <= 0.06)" in rejected[2]
    warning = [e for e in events(api) if e["reason"] == "AnalysisFailed"]
    assert "ece=0.091" in warning[0]["message"]
    assert rec.metrics.rollbacks.labels("AnalysisFailed")._value.get() == 1


async def test_too_few_samples_is_inconclusive_and_never_promotes(
    world: tuple, prometheus: ScriptedPrometheus
) -> None:
    api, rec, clock = world
    await to_analysis(api, rec)
    prometheus.values[Query.SAMPLES] = 12.0
    for _ in range(4):
        clock.advance(60)
        await rec.reconcile_named(NS, CANARY)
    status = canary_status(api)
    assert (status["phase"], status["reason"]) == ("Paused", "AnalysisInconclusive")
    assert status["checks"][0] == {
        "name": "samples",
        "value": 12.0,
        "threshold": 100.0,
        "comparison": ">=",
        "verdict": "Inconclusive",
        "reason": "too few resolved predictions",
    }
    assert replicas(api) == 1  # still at 25 %


async def test_kill_switch_halts_and_keeps_traffic_then_resumes(world: tuple) -> None:
    api, rec, _ = world
    await to_analysis(api, rec)
    api.store[MD_PATH]["spec"]["killSwitch"] = True
    await rec.reconcile_named(NS, CANARY)
    assert (canary_status(api)["phase"], canary_status(api)["haltedFrom"]) == (
        "Halted",
        "Progressing",
    )
    assert writes(api) == [STATUS, CANDIDATE]
    assert replicas(api) == 1
    api.store[MD_PATH]["spec"]["killSwitch"] = False
    await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["phase"] == "Progressing"


async def test_abort_annotation_rolls_back(world: tuple, recorder: RegistryRecorder) -> None:
    api, rec, _ = world
    await to_analysis(api, rec)
    api.store[CANARY_PATH]["metadata"]["annotations"] = {"levibot.io/abort": "now"}
    await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["reason"] == "Aborted"
    assert replicas(api) == 0
    assert recorder.statuses[0][:2] == ("v2", "rejected")


async def test_prometheus_errors_count_towards_the_error_limit(
    world: tuple, prometheus: ScriptedPrometheus
) -> None:
    api, rec, clock = world
    await to_analysis(api, rec)
    prometheus.down = True
    clock.advance(60)
    await rec.reconcile_named(NS, CANARY)
    status = canary_status(api)
    assert (status["phase"], status["analysis"]["consecutiveErrors"]) == ("Progressing", 1)


def firing(version: str = "v2", alertname: str = "LevibotErrorRateHigh") -> AlertTarget:
    return AlertTarget(NS, MD, version, alertname, "f1", "t1", "0.41")


async def test_alert_for_the_candidate_rolls_back_at_once(world: tuple) -> None:
    api, rec, _ = world
    await to_analysis(api, rec)
    await AlertHandler(rec)(firing())
    status = canary_status(api)
    assert (status["phase"], status["reason"]) == ("RolledBack", "AlertFiring")
    assert "LevibotErrorRateHigh firing for v2: 0.41" in status["message"]
    assert writes(api) == [STATUS, CANDIDATE]
    assert replicas(api) == 0
    await AlertHandler(rec)(firing())  # a repeated delivery changes nothing
    assert writes(api) == []
    assert rec.metrics.alerts._value.get() == 2


DRIFT = "LevibotFeatureDriftScore"


async def test_market_drift_pauses_the_canary_and_it_resumes_when_the_alert_stops(
    world: tuple, prometheus: ScriptedPrometheus, recorder: RegistryRecorder
) -> None:
    api, rec, clock = world
    await to_analysis(api, rec)
    prometheus.alerts = [({"alertname": DRIFT, "version": "v1"}, 1.0)]
    assert await AlertHandler(rec)(firing("v1", DRIFT)) is True
    status = canary_status(api)
    assert (status["phase"], status["reason"]) == ("Paused", "MarketDrift")
    assert status["desiredWeight"] == 25  # traffic held
    assert f"{DRIFT} on v1 (stable)" in status["message"]
    assert recorder.statuses == []  # nothing rejected
    clock.advance(60)
    await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["reason"] == "MarketDrift"  # still firing: still paused
    prometheus.alerts = []
    await rec.reconcile_named(NS, CANARY)
    status = canary_status(api)
    assert (status["phase"], status["reason"], status["currentStep"]) == (
        "Progressing", "MarketDriftEnded", 1
    )  # fmt: skip


async def test_drift_only_the_candidate_sees_rolls_it_back(
    world: tuple, prometheus: ScriptedPrometheus, recorder: RegistryRecorder
) -> None:
    api, rec, _ = world
    await to_analysis(api, rec)
    prometheus.drift_score = 0.4  # the stable's market is where its reference says
    prometheus.candidate_drift_score = 1.7  # the candidate above 1 throughout the span
    await AlertHandler(rec)(firing("v2", DRIFT))
    status = canary_status(api)
    assert (status["phase"], status["reason"]) == ("RolledBack", "CandidateDrift")
    [(version, registry_status, reason)] = recorder.statuses
    assert (version, registry_status) == ("v2", "rejected")
    assert "drift only the candidate sees" in reason
    assert "0.40" in reason


async def test_a_serving_alert_on_the_stable_version_never_retrains(world: tuple) -> None:
    api, rec, _ = world
    api.store[CANARY_PATH]["status"] = {"phase": "Succeeded"}
    for name in ("LevibotLatencyP95High", "LevibotErrorRateHigh", "LevibotDataStaleCritical"):
        await AlertHandler(rec)(firing("v1", name))
    assert [w for w in writes(api) if w[0] == "POST"] == []
    assert rec.metrics.alerts._value.get() == 3


async def test_a_stale_write_conflicts_and_is_decided_again(world: tuple) -> None:
    api, rec, _ = world
    body = await kube.fetch_object(api, "levibot.io/v1alpha1", "Canary", NS, CANARY)  # type: ignore[arg-type]
    assert body is not None
    await rec.reconcile_named(NS, CANARY)
    with pytest.raises(kube.ConflictError):
        await kube.patch_canary_status(api, body, {"phase": "Pending"})  # type: ignore[arg-type]
    assert canary_status(api)["phase"] == "Progressing"


async def test_invalid_spec_fails_naming_the_field(recorder: RegistryRecorder) -> None:
    del recorder
    bad = canary_body(steps=[{"setWeight": 50}, {"setWeight": 10}])
    api, rec, _ = build_world(ScriptedPrometheus(), bad)
    with pytest.raises(InvalidSpecError, match=r"spec\.steps\[1\]\.setWeight"):
        await rec.reconcile_named(NS, CANARY)
    assert writes(api) == [STATUS]
    status = canary_status(api)
    assert (status["phase"], status["reason"]) == ("Failed", "InvalidSpec")
    assert "spec.steps[1].setWeight" in status["message"]
    assert [e["reason"] for e in events(api)] == ["InvalidSpec"]


async def test_train_new_version_creates_the_job_then_serves_it(
    recorder: RegistryRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from levibot_operator.adapters import registry
    from levibot_operator.core.modeldeployment.observation import (
        REGISTRY_FOUND,
        RegistryObservation,
    )

    async def registered(*_: object) -> RegistryObservation:
        return RegistryObservation(REGISTRY_FOUND, "candidate")

    monkeypatch.setattr(registry, "fetch_registered", registered)
    recorder.highest = 1
    api, rec, _ = build_world(ScriptedPrometheus(), canary_body(candidate={"train": True}))
    await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["phase"] == "Training"
    await rec.reconcile_named(NS, CANARY)
    job_path = f"/apis/batch/v1/namespaces/{NS}/jobs/{MD}-train-v2-1"
    job = api.store[job_path]
    assert job["metadata"]["labels"]["levibot.io/canary"] == CANARY
    job["status"] = {"conditions": [{"type": "Complete", "status": "True"}]}
    await rec.reconcile_named(NS, CANARY)
    status = canary_status(api)
    assert (status["phase"], status["candidateVersion"]) == ("Progressing", "v2")
    assert api.store[MD_PATH]["status"]["stableVersion"] == "v1"  # the MD did not promote it


async def test_gateway_provider_weights_the_route_only_towards_an_available_candidate(
    recorder: RegistryRecorder,
) -> None:
    del recorder
    api, rec, _ = build_world(ScriptedPrometheus(), canary_body(shadow={"percent": 5}))
    gateway = {"provider": "gatewayAPI", "gatewayAPI": {"parentRefs": [{"name": "public"}]}}
    api.store[MD_PATH]["spec"]["traffic"] = gateway
    route_path = f"/apis/gateway.networking.k8s.io/v1/namespaces/{NS}/httproutes/{MD}"
    services = f"/api/v1/namespaces/{NS}/services"
    await rec.reconcile_named(NS, CANARY)
    assert writes(api) == [
        STATUS,
        CANDIDATE,
        ("PATCH", f"{services}/{MD}-v1"),
        ("PATCH", f"{services}/{MD}-v2"),
        ("PATCH", route_path),
    ]

    def weights() -> list[int]:
        rule = api.store[route_path]["spec"]["rules"][0]
        return [ref["weight"] for ref in rule["backendRefs"]]

    assert weights() == [100, 0]  # the candidate is not ready yet: no traffic, no mirror
    assert "filters" not in api.store[route_path]["spec"]["rules"][0]
    make_ready(api, CANDIDATE_PATH)
    await rec.reconcile_named(NS, CANARY)
    assert weights() == [75, 25]
    mirror = api.store[route_path]["spec"]["rules"][0]["filters"][0]["requestMirror"]
    assert (mirror["backendRef"]["name"], mirror["percent"]) == (f"{MD}-v2", 5)
    assert canary_status(api)["achievedWeight"] == 0.0  # measured before this tick's write
    await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["achievedWeight"] == 25.0


async def test_deleting_a_live_canary_reverts_traffic_before_the_finalizer_goes(
    world: tuple, recorder: RegistryRecorder
) -> None:
    api, rec, _ = world
    await to_analysis(api, rec)
    assert replicas(api) == 1
    api.store[CANARY_PATH]["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert await rec.reconcile_named(NS, CANARY) is None  # the daemon stops
    await rec.finalize_named(NS, CANARY)
    assert writes(api) == [CANDIDATE]  # the object is going: no status write
    assert replicas(api) == 0
    assert recorder.statuses == [("v2", "rejected", "canary deleted")]
    assert [e["reason"] for e in events(api)][-1] == "Deleted"
    assert (NS, CANARY) not in rec.active


async def test_deleting_a_live_gateway_canary_sends_the_route_back_to_stable(
    recorder: RegistryRecorder,
) -> None:
    del recorder
    api, rec, _ = build_world(ScriptedPrometheus())
    gateway = {"provider": "gatewayAPI", "gatewayAPI": {"parentRefs": [{"name": "public"}]}}
    api.store[MD_PATH]["spec"]["traffic"] = gateway
    route_path = f"/apis/gateway.networking.k8s.io/v1/namespaces/{NS}/httproutes/{MD}"
    await to_analysis(api, rec)
    rule = api.store[route_path]["spec"]["rules"][0]
    assert [ref["weight"] for ref in rule["backendRefs"]] == [75, 25]
    await rec.finalize_named(NS, CANARY)
    rule = api.store[route_path]["spec"]["rules"][0]
    assert [ref["weight"] for ref in rule["backendRefs"]] == [100, 0]
    assert replicas(api) == 0


async def test_deleting_a_finished_canary_writes_nothing(
    world: tuple, recorder: RegistryRecorder
) -> None:
    api, rec, _ = world
    api.store[CANARY_PATH]["status"] = {"phase": "RolledBack", "candidateVersion": "v2"}
    await rec.finalize_named(NS, CANARY)
    assert writes(api) == []
    assert recorder.statuses == []


async def test_promotion_changes_no_pod_template_of_the_candidate(world: tuple) -> None:
    """Zero-restart promotion: the candidate's pod template is byte-for-byte the same before and
    after the target takes it as stable; only the Deployment's label and the ConfigMap move."""
    api, rec, _ = world
    await to_analysis(api, rec)
    template = copy.deepcopy(api.store[CANDIDATE_PATH]["spec"]["template"])
    api.store[CANARY_PATH]["metadata"]["annotations"] = {"levibot.io/promote": "now"}
    await rec.reconcile_named(NS, CANARY)
    make_ready(api, CANDIDATE_PATH)
    await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["phase"] == "Succeeded"
    assert api.store[MD_PATH]["status"]["stableVersion"] == "v2"
    candidate = api.store[CANDIDATE_PATH]
    assert candidate["metadata"]["labels"]["levibot.io/track"] == "stable"
    assert candidate["spec"]["template"] == template
    configmap = api.store[f"/api/v1/namespaces/{NS}/configmaps/{MD}-killswitch"]
    assert configmap["data"]["stableVersion"] == "v2"  # the predictors re-label themselves
