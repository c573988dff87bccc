"""The drift loop (core.modeldeployment.drift_retrain): the stable's drift alert starts an
episode; the retrain waits until the drift has lasted minDriftedSeconds and trains on the
drifted stretch only; one live canary at a time, a cool-down between attempts, a name per
attempt, Events that say why once per change; the status round-trips."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from levibot_operator import constants as c
from levibot_operator.core.canary.template import parse_checked_modeldeployment
from levibot_operator.core.fields import SpecError, format_time
from levibot_operator.core.modeldeployment.drift_memory import DriftMemory, DriftSeen
from levibot_operator.core.modeldeployment.drift_retrain import DriftStep, plan_drift_retrain
from levibot_operator.core.modeldeployment.planning import decide_modeldeployment
from levibot_operator.core.modeldeployment.spec import parse_modeldeployment
from levibot_operator.core.modeldeployment.status import (
    MDStatus,
    VersionRecord,
    build_status_json,
    parse_md_status,
)
from levibot_operator.settings import OperatorSettings
from tests.operator.support.fakes import NOW, md_body, ready_deployment, snapshot

DRIFT = "LevibotFeatureDriftScore"
MD = parse_modeldeployment(md_body(driftRetrain={"minDriftedSeconds": 600, "coolDownSeconds": 900}))
STABLE = MDStatus(
    stable_version="v1",
    versions=(VersionRecord("v1", "2026-11-21T00:00:00Z", {}, "active", "f", "job-1"),),
)
FIRING = DriftSeen({"v1": (DRIFT,)}, {"v1": {"vol_1m": 2.4, "ret_1m": 0.3}})
CALM = DriftSeen({}, {"v1": {"vol_1m": 0.4}})
NONE: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())


def step(
    status: MDStatus,
    seen: DriftSeen | None,
    at: float,
    live: tuple[str, ...] = (),
    names: tuple[str, ...] = (),
) -> DriftStep:
    """One loop step ``at`` seconds after NOW; ``names``: finished Canaries of the target."""
    when = NOW + timedelta(seconds=at)
    return plan_drift_retrain(MD, status, seen, (live, (*live, *names)), when)


def test_defaults_and_the_floor_of_the_drifted_stretch() -> None:
    spec = parse_modeldeployment(md_body()).spec.drift_retrain
    assert (spec.min_drifted_seconds, spec.cool_down_seconds, spec.budget) == (3600, 3600, "2h")
    with pytest.raises(SpecError, match=r"spec\.driftRetrain\.minDriftedSeconds"):
        parse_modeldeployment(md_body(driftRetrain={"minDriftedSeconds": 60}))  # the horizon
    with pytest.raises(SpecError, match=r"spec\.driftRetrain\.budget"):
        parse_checked_modeldeployment(md_body(driftRetrain={"budget": "soon"}))


def test_an_episode_waits_for_the_drifted_stretch_then_trains_on_it_only() -> None:
    first = step(STABLE, FIRING, 0)
    assert first.canaries == ()
    assert first.status.drift.since == format_time(NOW)
    assert [e.reason for e in first.events] == [c.EVENT_DRIFT_WAITING]
    assert first.requeue_after == 600
    again = step(first.status, FIRING, 300)
    assert (again.canaries, again.events) == ((), ())  # the same reason: no second Event
    opened = step(again.status, FIRING, 620)
    [create] = opened.canaries
    manifest = create.manifest
    assert manifest["metadata"]["name"] == "btc-direction-drift-1"  # type: ignore[index]
    spec = manifest["spec"]
    # the rows of the 620 drifted seconds, their features looking back 301 s further
    assert spec["candidate"] == {"train": True, "dataWindowSeconds": 921}  # type: ignore[index]
    judgement = spec["analysis"]["judgement"]  # type: ignore[index]
    assert judgement["agreement"]["onDifferent"] == "evaluate"
    assert (judgement["budget"], judgement["onInconclusive"]) == ("2h", "rollback")
    assert judgement["calibration"] == {"alpha": 0.01, "relativeToStable": True}
    assert [e.reason for e in opened.events] == [c.EVENT_DRIFT_RETRAIN]
    assert "a 921-s window" in opened.events[0].message
    assert (opened.status.drift.attempts, opened.status.drift.canary) == (
        1,
        "btc-direction-drift-1",
    )


def test_the_window_is_capped_at_the_training_window() -> None:
    since = NOW - timedelta(days=30)
    status = replace(STABLE, drift=DriftMemory("v1", format_time(since), (DRIFT,)))
    [create] = step(status, FIRING, 0).canaries
    window = create.manifest["spec"]["candidate"]["dataWindowSeconds"]  # type: ignore[index]
    assert window == MD.spec.training.data_window_seconds


def opened_at(at: float) -> MDStatus:
    since, opened = NOW - timedelta(hours=2), NOW + timedelta(seconds=at)
    name = "btc-direction-drift-1"
    drift = DriftMemory("v1", format_time(since), (DRIFT,), 1, name, format_time(opened))
    return replace(STABLE, drift=drift)


def test_one_live_canary_at_a_time_then_a_cool_down_then_a_new_name() -> None:
    status = opened_at(0)
    live = step(status, FIRING, 60, live=("btc-direction-drift-1",))
    assert live.canaries == ()
    assert "is live" in live.events[0].message
    ended = ("btc-direction-drift-1",)
    cooling = step(live.status, FIRING, 120, names=ended)
    assert cooling.canaries == ()
    assert "cool-down" in cooling.events[0].message
    assert cooling.requeue_after == 780
    retried = step(cooling.status, FIRING, 901, names=ended)
    [create] = retried.canaries
    assert create.manifest["metadata"]["name"] == "btc-direction-drift-2"  # type: ignore[index]
    assert retried.status.drift.attempts == 2


def test_a_crash_between_status_and_create_re_creates_the_same_canary() -> None:
    recreated = step(opened_at(0), FIRING, 30)  # in status, not on the API server
    [create] = recreated.canaries
    assert create.manifest["metadata"]["name"] == "btc-direction-drift-1"  # type: ignore[index]
    assert step(opened_at(0), FIRING, 600).canaries == ()  # long gone: deleted on purpose


def test_a_promoted_retrain_that_drifts_too_carries_the_episode_on() -> None:
    """v2, the drift retrain, is promoted and drifts against its short reference: the episode
    keeps its ``since``, so the next retrain (after the cool-down) trains on the whole drifted
    stretch, not on minDriftedSeconds again."""
    status = opened_at(0)  # drift-1 opened at 0 on the episode since two hours before
    since = status.drift.since
    promoted = replace(status, stable_version="v2")
    drifting = DriftSeen({"v2": (DRIFT,)}, {"v2": {"vol_1m": 3.5}})
    later = step(promoted, drifting, 1200, names=("btc-direction-drift-1",))
    assert (later.status.drift.version, later.status.drift.since) == ("v2", since)
    [create] = later.canaries
    assert create.manifest["metadata"]["name"] == "btc-direction-drift-2"  # type: ignore[index]
    window = create.manifest["spec"]["candidate"]["dataWindowSeconds"]  # type: ignore[index]
    assert window == 7200 + 1200 + 301  # since -2 h to 1200 s, and the features' look-back
    calm = step(promoted, CALM, 1200)  # v2 does not drift: the episode is over
    assert calm.status.drift.since == ""


def test_the_episode_ends_when_the_alert_stops_and_scores_go_to_history() -> None:
    first = step(STABLE, FIRING, 0)
    calm = step(first.status, CALM, 60)
    assert (calm.status.drift.since, calm.status.drift.alerts) == ("", ())
    assert calm.status.versions[0].drift_scores == {"vol_1m": 0.4}
    written = build_status_json(calm.status)
    assert written["drift"]["since"] is None  # cleared on the server by the merge patch
    assert parse_md_status(written).drift == calm.status.drift
    assert parse_md_status(written).versions[0].drift_scores == {"vol_1m": 0.4}


def test_unreadable_prometheus_or_no_policy_changes_nothing() -> None:
    first = step(STABLE, FIRING, 0)
    assert step(first.status, DriftSeen(readable=False), 900).status == first.status
    off = parse_modeldeployment(md_body(driftPolicy="none"))
    assert plan_drift_retrain(off, STABLE, FIRING, NONE, NOW).canaries == ()


def test_the_reconcile_plan_creates_the_drift_canary_and_says_why() -> None:
    status = replace(
        STABLE, drift=DriftMemory("v1", format_time(NOW - timedelta(hours=2)), (DRIFT,))
    )
    snap = snapshot(status, deployments=(ready_deployment("v1"),), drift=FIRING)
    plan = decide_modeldeployment(snap, OperatorSettings().build_core_settings())
    created = [i for i in plan.intents if type(i).__name__ == "CreateCanary"]
    assert len(created) == 1
    assert any(e.reason == c.EVENT_DRIFT_RETRAIN for e in plan.events)
    assert not any(e.reason == c.EVENT_VERSION_REGISTERED for e in plan.events)
    assert plan.status.drift.attempts == 1
