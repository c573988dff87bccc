"""Market drift vs model fault (core.canary.market_drift): the market's drift pauses a canary
with traffic held and promotion frozen; a drift only the candidate sees rolls it back; a canary
opened by the drift policy is not paused by the market it is there to be judged on."""

from levibot_operator import constants as c
from levibot_operator.core.canary.decision import FiringAlert
from levibot_operator.core.canary.drift_observation import DriftObservation
from levibot_operator.core.canary.market_drift import (
    DriftKind,
    assess_drift,
    build_drift_score_query,
    is_drift_held,
    plan_confirm_seconds,
)
from levibot_operator.core.canary.spec import CanaryControls
from levibot_operator.core.canary.status import CanaryStatus, Phase
from tests.operator.support.canary.builders import Driver, make_spec, observe

DRIFT = "LevibotFeatureDriftScore"
ON_STABLE = DriftObservation(((DRIFT, "v1"),), 2.3)
QUIET = DriftObservation()


def progressing() -> Driver:
    driver = Driver(make_spec())
    driver.tick()  # setWeight 10
    assert driver.status.phase is Phase.PROGRESSING
    return driver


def test_whose_drift_it_is() -> None:
    status = CanaryStatus(stable_version="v1", candidate_version="v2")
    assert assess_drift(None, status) is None
    assert assess_drift(QUIET, status) is None
    assert assess_drift(ON_STABLE, status) is DriftKind.MARKET
    on_candidate = DriftObservation(((DRIFT, "v2"),), 0.45, candidate_score=1.3)
    assert assess_drift(on_candidate, status) is DriftKind.CANDIDATE
    cases = (
        (1.4, 1.3),
        (None, 1.3),
        (0.4, None),
        (0.4, 0.95),
        (0.4, 1.0),
        (0.7, 1.3),
        (0.92, 1.24),
    )
    for stable, candidate in cases:
        seen = DriftObservation(((DRIFT, "v2"),), stable, candidate_score=candidate)
        assert assess_drift(seen, status) is DriftKind.MARKET, (stable, candidate)
    assert assess_drift(DriftObservation(((DRIFT, "v7"),), 0.1), status) is None


def test_a_race_of_the_market_holds_the_candidate_until_the_span_confirms_it() -> None:
    """The candidate's score crosses 1 before the stable's: until it has stayed above 1 for the
    whole span (while the stable never rose above 1), the canary is paused, not rolled back."""
    driver = progressing()
    early = DriftObservation(((DRIFT, "v2"),), 0.85, candidate_score=0.6)
    decision = driver.tick(observe(drift=early))
    assert (decision.status.phase, decision.status.reason) == (
        Phase.PAUSED, c.REASON_MARKET_DRIFT
    )  # fmt: skip
    assert decision.registry == ()
    confirmed = DriftObservation(((DRIFT, "v2"),), 0.35, candidate_score=1.6)
    decision = driver.tick(observe(drift=confirmed))
    assert (decision.status.phase, decision.status.reason) == (
        Phase.ROLLED_BACK, c.REASON_CANDIDATE_DRIFT
    )  # fmt: skip


def test_the_confirmation_span_is_the_drift_window_and_the_alerts_for() -> None:
    assert plan_confirm_seconds(1800, 300) == 2100
    query = build_drift_score_query("ns", "md", "v2", seconds=170, lowest=True)
    assert query == (
        'min_over_time(max(levibot_feature_drift_score{namespace="ns",model="md",version="v2"})'
        "[170s:])"
    )
    assert build_drift_score_query("ns", "md", "v1", seconds=170).startswith("max_over_time(")


def test_market_drift_pauses_with_traffic_held_and_nothing_rejected() -> None:
    driver = progressing()
    decision = driver.tick(observe(drift=ON_STABLE))
    status = decision.status
    assert (status.phase, status.reason, status.desired_weight) == (
        Phase.PAUSED, c.REASON_MARKET_DRIFT, 10
    )  # fmt: skip
    assert decision.registry == ()
    assert decision.traffic.weight == 10
    assert is_drift_held(status)
    assert "stable drift score 2.30" in status.message


def test_promotion_and_resume_are_frozen_while_the_market_drifts() -> None:
    driver = progressing()
    driver.tick(observe(drift=ON_STABLE))
    for controls in (CanaryControls(promote="now"), CanaryControls(resume="r1")):
        decision = driver.tick(observe(drift=ON_STABLE, controls=controls), after=600)
        assert (decision.status.phase, decision.status.reason) == (
            Phase.PAUSED, c.REASON_MARKET_DRIFT
        )  # fmt: skip
        assert decision.events == ()


def test_unknown_alert_state_keeps_the_pause() -> None:
    driver = progressing()
    driver.tick(observe(drift=ON_STABLE))
    decision = driver.tick(observe(drift=None), after=30)
    assert decision.status.reason == c.REASON_MARKET_DRIFT


def test_the_step_starts_afresh_once_no_drift_alert_fires() -> None:
    driver = progressing()
    driver.tick(observe(drift=ON_STABLE))
    decision = driver.tick(observe(drift=QUIET), after=30)
    status = decision.status
    assert (status.phase, status.reason, status.current_step) == (
        Phase.PROGRESSING, c.REASON_MARKET_DRIFT_ENDED, 0
    )  # fmt: skip
    assert not is_drift_held(status)


def test_a_halt_during_the_pause_comes_back_to_it() -> None:
    driver = progressing()
    driver.tick(observe(drift=ON_STABLE))
    driver.tick(observe(drift=ON_STABLE, kill_switch=True))
    back = driver.tick(observe(drift=ON_STABLE, kill_switch=False))
    assert back.status.phase is Phase.PAUSED
    assert is_drift_held(back.status)  # the kill-switch's transitions do not end the pause
    resumed = driver.tick(observe(drift=QUIET))
    assert resumed.status.reason == c.REASON_MARKET_DRIFT_ENDED


def test_drift_only_the_candidate_sees_rolls_back_naming_why() -> None:
    driver = progressing()
    drift = DriftObservation(((DRIFT, "v2"),), 0.42, candidate_score=1.9)
    decision = driver.tick(observe(drift=drift, alert=FiringAlert(DRIFT, "v2", "1.9")))
    assert (decision.status.phase, decision.status.reason) == (
        Phase.ROLLED_BACK, c.REASON_CANDIDATE_DRIFT
    )  # fmt: skip
    [rejected] = decision.registry
    assert rejected.status == c.REGISTRY_REJECTED
    assert "drift only the candidate sees" in rejected.reason
    assert "stable drift score 0.42, candidate 1.90" in rejected.reason


def test_a_drift_alert_alone_no_longer_rolls_the_candidate_back() -> None:
    driver = progressing()
    decision = driver.tick(observe(alert=FiringAlert(DRIFT, "v2", "1.9")))
    assert decision.status.phase is not Phase.ROLLED_BACK  # its next step, as without it
    assert decision.registry == ()


def test_the_drift_policy_canary_is_not_paused_by_the_market() -> None:
    driver = progressing()
    drift = DriftObservation(((DRIFT, "v1"),), 2.3, drift_canary=True)
    decision = driver.tick(observe(drift=drift))
    assert decision.status.reason == c.REASON_STEP_STARTED  # its next step, as without it
