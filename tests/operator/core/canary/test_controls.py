"""Retry and restart, one tick at a time: tokens act once, a retry starts afresh (core, pure)."""

from levibot_operator import constants as c
from levibot_operator.core.canary import decision as d
from levibot_operator.core.canary.spec import CanaryControls, parse_canary_controls
from levibot_operator.core.canary.status import Phase, build_canary_status, parse_canary_status
from levibot_operator.core.intents import EVENT_WARNING, SetRegistryStatus
from tests.operator.support.canary.builders import FAILING, PASSING, Driver, make_spec, observe


def rolled_back() -> Driver:
    driver = Driver(make_spec())
    driver.tick()  # setWeight 10
    driver.tick()  # pause 1m
    driver.tick(after=60)  # analysis
    driver.tick(observe(measurement=FAILING), after=60)
    assert driver.status.phase is Phase.ROLLED_BACK
    return driver


def retry(token: str, **controls: str) -> CanaryControls:
    return CanaryControls(retry=token, **controls)


def test_the_annotations_are_read() -> None:
    notes = {"levibot.io/retry": "t1", "levibot.io/restart": "t2", "levibot.io/abort": ""}
    assert parse_canary_controls(notes) == CanaryControls(retry="t1", restart="t2")


def test_retry_from_rolled_back_starts_afresh_and_makes_the_candidate_a_candidate_again() -> None:
    driver = rolled_back()
    rejected_because = driver.status.message
    decision = driver.tick(observe(controls=retry("t1")))
    status = decision.status
    assert (status.phase, status.reason, status.current_step) == (
        Phase.PENDING,
        c.REASON_RETRIED,
        0,
    )
    assert (status.handled_retry, status.analysis, status.desired_weight) == ("t1", None, 0)
    assert decision.registry == (
        SetRegistryStatus(
            "v2", c.REGISTRY_CANDIDATE, f"retried by canary (t1) after: {rejected_because}"
        ),
    )
    assert status.history[-2].phase is Phase.ROLLED_BACK  # the history of the first attempt stays
    again = driver.tick(observe(controls=retry("t1")))
    assert (again.status.phase, again.status.desired_weight) == (Phase.PROGRESSING, 10)
    assert again.registry == ()


def test_a_spent_retry_token_does_nothing() -> None:
    driver = rolled_back()
    driver.tick(observe(controls=retry("t1")))
    driver.tick(observe(controls=retry("t1")))
    driver.tick(observe(controls=retry("t1"), measurement=FAILING), after=60)  # pause
    driver.tick(observe(controls=retry("t1")), after=60)  # analysis
    driver.tick(observe(controls=retry("t1"), measurement=FAILING), after=60)
    assert driver.status.phase is Phase.ROLLED_BACK
    assert driver.tick(observe(controls=retry("t1"))).status.phase is Phase.ROLLED_BACK
    assert driver.tick(observe(controls=retry("t2"))).status.phase is Phase.PENDING


def test_retry_is_refused_while_abort_is_still_set() -> None:
    driver = rolled_back()
    decision = driver.tick(observe(controls=retry("t1", abort="yes")))
    assert decision.status.phase is Phase.ROLLED_BACK
    assert decision.status.handled_retry == "t1"
    assert [(e.reason, e.type) for e in decision.events] == [
        (c.REASON_RETRY_REFUSED, EVENT_WARNING)
    ]


def test_retry_of_a_succeeded_canary_does_nothing() -> None:
    driver = rolled_back()
    driver.status = driver.status.__class__(phase=Phase.SUCCEEDED, achieved_weight=100.0)
    assert (
        driver.tick(observe(controls=retry("t1"), achieved_weight=100.0)).status.handled_retry
        is None
    )


def test_retry_of_a_failed_training_trains_a_new_version() -> None:
    driver = Driver(make_spec(candidate={"train": True}))
    driver.tick(observe(next_version="v2"))
    failed = driver.tick(observe(training=d.CandidateTraining.FAILED))
    assert failed.status.phase is Phase.FAILED
    driver.tick(observe(controls=retry("t1"), next_version="v3"))
    training = driver.tick(observe(controls=retry("t1"), next_version="v3"))
    assert (training.status.phase, training.train_version) == (Phase.TRAINING, "v3")
    assert training.registry == ()


def test_retry_of_a_rolled_back_trained_candidate_keeps_it() -> None:
    driver = Driver(make_spec(candidate={"train": True}))
    driver.tick(observe(next_version="v2"))
    driver.tick(observe(training=d.CandidateTraining.SUCCEEDED))  # setWeight 10
    driver.tick(observe(controls=CanaryControls(abort="stop")))
    assert driver.status.phase is Phase.ROLLED_BACK
    driver.tick(observe(controls=retry("t1"), next_version="v3"))
    again = driver.tick(observe(controls=retry("t1"), next_version="v3"))
    assert (again.status.phase, again.status.candidate_version) == (Phase.PROGRESSING, "v2")


def test_restart_starts_a_fresh_run_at_the_same_step_and_weight() -> None:
    driver = Driver(make_spec())
    driver.tick()
    driver.tick()
    driver.tick(after=60)
    driver.tick(observe(measurement=PASSING), after=60)
    assert driver.status.analysis is not None
    assert driver.status.analysis.measurements == 1
    weight = driver.status.desired_weight
    decision = driver.tick(observe(controls=CanaryControls(restart="r1")))
    status = decision.status
    assert (status.phase, status.reason, status.current_step) == (
        Phase.PROGRESSING,
        c.REASON_RESTARTED,
        2,
    )
    assert status.analysis is not None
    assert status.analysis.measurements == 0
    assert (status.desired_weight, status.handled_restart) == (weight, "r1")
    same = driver.tick(
        observe(controls=CanaryControls(restart="r1"), measurement=PASSING), after=60
    )
    assert same.status.analysis is not None
    assert same.status.analysis.measurements == 1


def test_restart_away_from_an_analysis_spends_the_token_only() -> None:
    driver = Driver(make_spec())
    driver.tick()
    driver.tick()  # pause 1m at step 1
    decision = driver.tick(observe(controls=CanaryControls(restart="r1")))
    assert (decision.status.phase, decision.status.current_step) == (Phase.PAUSED, 1)
    assert decision.status.handled_restart == "r1"


def test_the_handled_tokens_round_trip_through_status() -> None:
    driver = rolled_back()
    driver.tick(observe(controls=retry("t1")))
    assert parse_canary_status(build_canary_status(driver.status)) == driver.status
