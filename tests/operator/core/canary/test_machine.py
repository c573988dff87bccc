"""Table tests of the canary state machine, one transition at a time (core, pure)."""

from dataclasses import replace
from datetime import timedelta

import pytest

from levibot_operator import constants as c
from levibot_operator.core.canary import decision as d
from levibot_operator.core.canary.decision import CanaryObservation, CandidateTraining, FiringAlert
from levibot_operator.core.canary.machine import decide_deletion
from levibot_operator.core.canary.spec import CanaryControls
from levibot_operator.core.canary.status import (
    Phase,
    build_canary_status,
    parse_canary_status,
)
from levibot_operator.core.intents import EVENT_WARNING, Scale, TrafficIntent
from tests.operator.support.canary.builders import (
    ERRORED,
    FAILING,
    INCONCLUSIVE,
    PASSING,
    Driver,
    make_spec,
    observe,
)


def at_analysis() -> Driver:
    """A driver whose canary has just started the analysis step (step index 2)."""
    driver = Driver(make_spec())
    driver.tick()  # Pending → setWeight 10
    driver.tick()  # candidate available → pause 1m
    driver.tick(after=60)  # pause over → analysis
    assert (driver.status.phase, driver.status.current_step) == (Phase.PROGRESSING, 2)
    return driver


def measure(driver: Driver, measurement: d.Measurement, times: int = 1) -> d.CanaryDecision:
    for _ in range(times):
        decision = driver.tick(observe(measurement=measurement), after=60)
    return decision


def test_pending_waits_for_a_stable_version() -> None:
    decision = Driver(make_spec()).tick(observe(stable_version=None))
    assert decision.status.phase is Phase.PENDING
    assert decision.status.reason == c.REASON_WAITING_FOR_TARGET
    assert decision.traffic == TrafficIntent(0, Scale.ZERO, Scale.FULL)
    assert decision.events == ()


def test_pending_with_an_existing_candidate_starts_the_first_step() -> None:
    decision = Driver(make_spec()).tick()
    status = decision.status
    assert (status.phase, status.current_step, status.desired_weight) == (Phase.PROGRESSING, 0, 10)
    assert (status.stable_version, status.candidate_version) == ("v1", "v2")
    assert decision.traffic == TrafficIntent(10, Scale.WEIGHTED, Scale.FULL)
    assert [e.reason for e in decision.events] == [c.REASON_STEP_STARTED]


def test_a_candidate_equal_to_stable_fails() -> None:
    decision = Driver(make_spec(candidate={"version": "v1"})).tick()
    assert decision.status.phase is Phase.FAILED
    assert decision.events[0].type == EVENT_WARNING


@pytest.mark.parametrize(
    ("training", "phase", "train_version"),
    [
        (CandidateTraining.NOT_STARTED, Phase.TRAINING, "v2"),
        (CandidateTraining.RUNNING, Phase.TRAINING, "v2"),
        (CandidateTraining.SUCCEEDED, Phase.PROGRESSING, None),
        (CandidateTraining.FAILED, Phase.FAILED, None),
    ],
)
def test_training(training: CandidateTraining, phase: Phase, train_version: str | None) -> None:
    driver = Driver(make_spec(candidate={"train": True}))
    first = driver.tick(observe(next_version="v2"))
    assert (first.status.phase, first.train_version) == (Phase.TRAINING, "v2")
    decision = driver.tick(observe(training=training, next_version="v3"))
    assert (decision.status.phase, decision.train_version) == (phase, train_version)
    assert decision.status.candidate_version == "v2"  # chosen once, kept


def test_set_weight_waits_for_the_candidate_then_rolls_back_past_the_deadline() -> None:
    driver = Driver(make_spec(progressDeadline="2m"))
    driver.tick()
    waiting = driver.tick(observe(candidate_available=False), after=60)
    assert (waiting.status.phase, waiting.status.current_step) == (Phase.PROGRESSING, 0)
    late = driver.tick(observe(candidate_available=False), after=61)
    assert late.status.phase is Phase.ROLLED_BACK
    assert late.status.reason == c.REASON_PROGRESS_DEADLINE
    assert late.traffic == TrafficIntent(0, Scale.ZERO, Scale.FULL)


def test_pause_for_a_duration() -> None:
    driver = Driver(make_spec())
    driver.tick()
    paused = driver.tick()
    assert (paused.status.phase, paused.status.current_step) == (Phase.PAUSED, 1)
    assert driver.tick(after=59).status.phase is Phase.PAUSED
    assert driver.tick(after=1).status.current_step == 2


def test_analysis_measures_only_when_due() -> None:
    driver = at_analysis()
    early = driver.tick(observe(measurement=PASSING), after=30)
    assert early.status.analysis is not None
    assert early.status.analysis.measurements == 0
    assert early.requeue_after is not None
    assert early.requeue_after.total_seconds() == 30


def test_analysis_passes_after_count_measurements() -> None:
    driver = at_analysis()
    decision = measure(driver, PASSING, times=3)
    assert (decision.status.current_step, decision.status.desired_weight) == (3, 50)
    assert decision.status.reason == c.REASON_ANALYSIS_PASSED


def test_analysis_failure_rolls_back_naming_the_check() -> None:
    decision = measure(at_analysis(), FAILING)
    assert decision.status.phase is Phase.ROLLED_BACK
    assert decision.traffic == TrafficIntent(0, Scale.ZERO, Scale.FULL)
    [intent] = decision.registry
    assert (intent.version, intent.status) == ("v2", "rejected")
    assert "ece=0.09" in intent.reason
    assert "<= 0.06" in intent.reason
    assert "ece=0.09" in decision.events[0].message
    assert decision.events[0].type == EVENT_WARNING


def test_inconclusive_analysis_pauses_and_a_resume_starts_a_fresh_run() -> None:
    driver = at_analysis()
    assert measure(driver, INCONCLUSIVE).status.phase is Phase.PROGRESSING  # 1 <= limit 1
    paused = measure(driver, INCONCLUSIVE)
    assert (paused.status.phase, paused.status.reason) == (
        Phase.PAUSED,
        c.REASON_ANALYSIS_INCONCLUSIVE,
    )
    assert driver.tick(after=3600).status.phase is Phase.PAUSED  # waits, never promotes
    resumed = driver.tick(observe(controls=CanaryControls(resume="r1")))
    assert (resumed.status.phase, resumed.status.current_step) == (Phase.PROGRESSING, 2)
    assert resumed.status.analysis is not None
    assert resumed.status.analysis.measurements == 0


def test_a_run_without_a_single_pass_is_inconclusive() -> None:
    driver = Driver(make_spec(analysis={"count": 2, "inconclusiveLimit": 5}))
    driver.tick()
    driver.tick()
    driver.tick(after=60)
    decision = measure(driver, INCONCLUSIVE, times=2)
    assert decision.status.phase is Phase.PAUSED


def test_consecutive_errors_beyond_the_limit_hold_traffic_and_resume_by_themselves() -> None:
    driver = at_analysis()
    assert measure(driver, ERRORED, times=2).status.phase is Phase.PROGRESSING
    passed = measure(driver, PASSING)
    run = passed.status.analysis
    assert run is not None
    assert run.consecutive_errors == 0  # a success resets the streak
    held = measure(driver, ERRORED, times=3)
    assert (held.status.phase, held.status.reason) == (Phase.PAUSED, c.REASON_ANALYSIS_ERROR)
    assert "prometheus unreachable" in held.status.message
    assert held.traffic == passed.traffic  # traffic held where it was
    assert not held.registry  # the metrics source failed, not the model: nothing rejected
    step = held.status.current_step
    still = driver.tick(observe(measurement=ERRORED), after=3600)
    assert (still.status.phase, still.status.current_step) == (Phase.PAUSED, step)
    recovered = driver.tick(observe(measurement=PASSING), after=60)
    assert (recovered.status.phase, recovered.status.reason) == (
        Phase.PROGRESSING,
        c.REASON_METRICS_RECOVERED,
    )
    fresh = recovered.status.analysis
    assert fresh is not None
    assert (fresh.step, fresh.measurements) == (step, 0)


def test_pause_until_resumed_needs_a_new_token() -> None:
    driver = at_analysis()
    measure(driver, PASSING, times=3)
    paused = driver.tick()
    assert (paused.status.phase, paused.status.current_step) == (Phase.PAUSED, 4)
    assert driver.tick(after=3600).status.phase is Phase.PAUSED
    stale = replace(driver.status, handled_resume="old")
    driver.status = stale
    assert driver.tick(observe(controls=CanaryControls(resume="old"))).status.current_step == 4
    resumed = driver.tick(observe(controls=CanaryControls(resume="new")))
    assert (resumed.status.current_step, resumed.status.handled_resume) == (5, "new")


def test_a_healthy_candidate_is_promoted_through_every_step() -> None:
    driver = at_analysis()
    measure(driver, PASSING, times=3)
    driver.tick()
    driver.tick(observe(controls=CanaryControls(resume="go")))
    assert driver.tick().status.phase is Phase.PROMOTING
    done = driver.tick()
    assert done.status.phase is Phase.SUCCEEDED
    assert done.traffic == TrafficIntent(100, Scale.FULL, Scale.ZERO)
    assert done.promoted_version == "v2"
    assert {(r.version, r.status) for r in done.registry} == {("v2", "active"), ("v1", "retired")}
    weights = [x.traffic.weight for x in driver.decisions]
    assert weights == sorted(weights)
    assert {10, 50, 100} <= set(weights)


def test_promoting_waits_for_the_candidate_at_full_scale() -> None:
    driver = Driver(make_spec())
    driver.tick()
    driver.tick(observe(controls=CanaryControls(promote="now")))
    waiting = driver.tick(observe(candidate_available=False))
    assert waiting.status.phase is Phase.PROMOTING
    assert waiting.traffic == TrafficIntent(100, Scale.FULL, Scale.FULL)  # stable still full


@pytest.mark.parametrize("phase_ticks", [1, 2, 4])
def test_abort_rolls_back_from_any_active_phase(phase_ticks: int) -> None:
    driver = Driver(make_spec())
    for _ in range(phase_ticks):
        driver.tick(after=60)
    decision = driver.tick(observe(controls=CanaryControls(abort="yes")))
    assert (decision.status.phase, decision.status.reason) == (Phase.ROLLED_BACK, c.REASON_ABORTED)


def test_abort_before_serving_fails_without_rejecting() -> None:
    driver = Driver(make_spec(candidate={"train": True}))
    driver.tick()
    decision = driver.tick(observe(controls=CanaryControls(abort="yes")))
    assert decision.status.phase is Phase.FAILED
    assert decision.registry == ()


def test_an_alert_for_the_candidate_rolls_back_at_once() -> None:
    driver = Driver(make_spec())
    driver.tick()
    alert = FiringAlert("LevibotErrorRateHigh", "v2", "0.41")
    decision = driver.tick(observe(alert=alert))
    assert (decision.status.phase, decision.status.reason) == (
        Phase.ROLLED_BACK,
        c.REASON_ALERT_FIRING,
    )
    assert "LevibotErrorRateHigh" in decision.registry[0].reason
    assert "0.41" in decision.events[0].message


def test_an_alert_for_another_version_is_ignored() -> None:
    driver = Driver(make_spec())
    driver.tick()
    decision = driver.tick(observe(alert=FiringAlert("LevibotFeatureDrift", "v1")))
    assert decision.status.phase is Phase.PAUSED


def test_kill_switch_halts_and_resumes_where_it_was() -> None:
    driver = Driver(make_spec())
    driver.tick()
    halted = driver.tick(observe(kill_switch=True))
    assert (halted.status.phase, halted.status.halted_from) == (Phase.HALTED, Phase.PROGRESSING)
    assert halted.traffic == TrafficIntent(10, Scale.WEIGHTED, Scale.FULL)  # frozen, not moved
    promote = CanaryControls(promote="now")
    frozen = driver.tick(observe(kill_switch=True, controls=promote), after=600)
    assert frozen.status.phase is Phase.HALTED
    assert frozen.events == ()
    back = driver.tick(observe(kill_switch=False))
    assert (back.status.phase, back.status.current_step) == (Phase.PROGRESSING, 0)


def test_an_alert_while_halted_still_rolls_back() -> None:
    driver = Driver(make_spec())
    driver.tick()
    driver.tick(observe(kill_switch=True))
    decision = driver.tick(observe(kill_switch=True, alert=FiringAlert("EceHigh", "v2")))
    assert decision.status.phase is Phase.ROLLED_BACK


@pytest.mark.parametrize(
    "observed",
    [
        observe(),
        observe(controls=CanaryControls(promote="x", abort="y", resume="z")),
        observe(alert=FiringAlert("EceHigh", "v2"), kill_switch=True),
    ],
)
def test_terminal_phases_repeat_their_intents_quietly(observed: CanaryObservation) -> None:
    driver = Driver(make_spec())
    driver.tick()
    rolled = driver.tick(observe(controls=CanaryControls(abort="yes")))
    again = driver.tick(observed, after=60)
    assert again.status == rolled.status
    assert (again.traffic, again.registry, again.events) == (rolled.traffic, rolled.registry, ())


def test_a_finished_canary_looks_again_until_its_traffic_has_settled() -> None:
    driver = Driver(make_spec())
    driver.tick()
    driver.tick(observe(controls=CanaryControls(abort="yes"), achieved_weight=10.0))
    draining = driver.tick(observe(achieved_weight=10.0), after=1)
    assert (draining.status.achieved_weight, draining.requeue_after) == (10.0, timedelta(seconds=5))
    settled = driver.tick(observe(achieved_weight=0.0), after=5)
    assert (settled.status.achieved_weight, settled.requeue_after) == (0.0, None)


def test_a_restarted_operator_resumes_at_the_same_step() -> None:
    driver = at_analysis()
    measure(driver, PASSING)
    persisted = parse_canary_status(build_canary_status(driver.status))
    assert persisted == driver.status
    restarted = Driver(driver.spec, persisted)
    restarted.now = driver.now
    observed = observe(measurement=PASSING)
    assert restarted.tick(observed, after=60) == driver.tick(observed, after=60)


def test_deleting_a_live_canary_rolls_it_back_and_rejects_the_candidate() -> None:
    driver = at_analysis()
    decision = decide_deletion(driver.status, driver.now)
    assert decision is not None
    assert (decision.status.phase, decision.status.reason) == (Phase.ROLLED_BACK, c.REASON_DELETED)
    assert decision.traffic == TrafficIntent(0, Scale.ZERO, Scale.FULL)
    assert [(r.version, r.status, r.reason) for r in decision.registry] == [
        ("v2", "rejected", "canary deleted")
    ]


@pytest.mark.parametrize("phase", [Phase.SUCCEEDED, Phase.ROLLED_BACK, Phase.FAILED])
def test_deleting_a_finished_canary_has_nothing_to_undo(phase: Phase) -> None:
    driver = at_analysis()
    assert decide_deletion(replace(driver.status, phase=phase), driver.now) is None


def test_deleting_before_a_candidate_is_chosen_has_nothing_to_undo() -> None:
    driver = Driver(make_spec())
    assert decide_deletion(driver.status, driver.now) is None
