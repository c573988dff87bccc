"""Pooling a judgement's rows across analysis steps (core, pure): ``status.judgement.since`` is
recorded once, when the candidate starts being measured, survives the status round trip, is
kept by later steps, a resume and a metrics recovery, and starts again on a restart or a retry;
the judgement's block follows the target's features; calibration's alpha covers every run."""

from datetime import timedelta
from typing import Any

from levibot_operator.core.canary.judgement_checks import (
    count_judged_steps,
    plan_judgement_context,
)
from levibot_operator.core.canary.judgement_spec import JudgementSpec, parse_judgement
from levibot_operator.core.canary.spec import CanaryControls
from levibot_operator.core.canary.status import Phase, build_canary_status, parse_canary_status
from tests.operator.core.canary.test_judgement_run import EQUIVALENT, UNSURE
from tests.operator.support.canary.builders import (
    ANALYSIS,
    ERRORED,
    FAILING,
    T0,
    Driver,
    make_spec,
    observe,
)

DEMO_FEATURES = ("ret_1m", "vol_1m", "rsi_14", "zscore_60")
TWO_ANALYSES: list[dict[str, Any]] = [
    {"setWeight": 10},
    {"pause": {"duration": "1m"}},
    {"analysis": {}},
    {"setWeight": 50},
    {"analysis": {}},
]


def judged_driver(**judgement: Any) -> Driver:
    analysis = {**ANALYSIS, "inconclusiveLimit": 10, "judgement": {"budget": "10m", **judgement}}
    return Driver(make_spec(analysis=analysis, steps=TWO_ANALYSES))


def test_since_is_the_first_step_and_every_later_step_keeps_it() -> None:
    driver = judged_driver()
    driver.tick()  # setWeight 10
    assert driver.status.judgement_since == T0
    driver.tick()  # the warm-up pause
    driver.tick(after=60)  # the first analysis
    assert (driver.status.current_step, driver.status.judgement_since) == (2, T0)
    for _ in range(3):
        driver.tick(observe(measurement=EQUIVALENT), after=60)
    driver.tick()  # setWeight 50 into the second analysis
    assert driver.status.current_step == 4
    run = driver.status.analysis
    assert run is not None
    assert run.started_at > T0
    assert driver.status.judgement_since == T0  # its rows are read from the first step on


def test_since_survives_the_status_round_trip_as_status_judgement_since() -> None:
    driver = judged_driver()
    driver.tick()
    body = build_canary_status(driver.status)
    assert body["judgement"] == {"since": "2026-11-21T12:00:00Z"}
    assert parse_canary_status(body).judgement_since == T0
    assert build_canary_status(parse_canary_status(body)) == body
    old = {k: v for k, v in body.items() if k != "judgement"}  # written before the field
    assert parse_canary_status(old).judgement_since is None


def test_an_older_status_without_since_pools_from_its_next_step() -> None:
    driver = judged_driver()
    driver.tick()
    driver.status = parse_canary_status(
        {k: v for k, v in build_canary_status(driver.status).items() if k != "judgement"}
    )
    driver.tick(after=5)
    assert driver.status.judgement_since == T0 + timedelta(seconds=5)


def test_a_resume_and_a_metrics_recovery_keep_the_pool() -> None:
    driver = judged_driver(budget="3m")
    driver.tick()
    driver.tick()
    driver.tick(after=60)
    for _ in range(3):
        driver.tick(observe(measurement=UNSURE), after=60)
    assert (driver.status.phase, driver.status.judgement_since) == (Phase.PAUSED, T0)
    driver.tick(observe(controls=CanaryControls(resume="r1")), after=60)
    assert (driver.status.phase, driver.status.judgement_since) == (Phase.PROGRESSING, T0)
    for _ in range(3):
        driver.tick(observe(measurement=ERRORED), after=60)  # consecutiveErrorLimit 2
    assert driver.status.reason == "AnalysisError"
    driver.tick(observe(measurement=EQUIVALENT), after=60)
    assert (driver.status.phase, driver.status.judgement_since) == (Phase.PROGRESSING, T0)


def test_a_restart_starts_the_pool_again() -> None:
    driver = judged_driver()
    driver.tick()
    driver.tick()
    driver.tick(after=60)
    decision = driver.tick(observe(controls=CanaryControls(restart="t1")), after=90)
    assert decision.status.judgement_since == T0 + timedelta(seconds=150)
    run = decision.status.analysis
    assert run is not None
    assert run.started_at == decision.status.judgement_since


def test_a_retry_is_a_new_attempt_with_a_new_pool() -> None:
    driver = judged_driver()
    driver.tick()
    driver.tick()
    driver.tick(after=60)
    assert driver.tick(observe(measurement=FAILING), after=60).status.phase is Phase.ROLLED_BACK
    retried = driver.tick(observe(controls=CanaryControls(retry="t1")), after=60)
    assert (retried.status.phase, retried.status.judgement_since) == (Phase.PENDING, None)
    driver.tick(after=30)
    assert driver.status.judgement_since == T0 + timedelta(seconds=210)


def test_count_judged_steps() -> None:
    judged = {**ANALYSIS, "judgement": {}}
    assert count_judged_steps(make_spec(analysis=judged, steps=TWO_ANALYSES)) == 2
    assert count_judged_steps(make_spec(steps=TWO_ANALYSES)) == 1  # none: at least one
    mixed = [*TWO_ANALYSES, {"analysis": {"count": 1}}]
    assert count_judged_steps(make_spec(analysis=judged, steps=mixed)) == 3


def test_the_auto_block_follows_the_target_features() -> None:
    spec = parse_judgement({"budget": "9m"}, "judgement")
    demo = plan_judgement_context(spec, (10, DEMO_FEATURES), (1000.0, 2000.0), 0.05)
    assert demo.block_seconds == 71.0  # 10 s horizon + the one-minute features' 61 prices
    production = plan_judgement_context(spec, (60, ("ret_5m", "rsi_14")), (0.0, 1.0), None)
    assert production.block_seconds == 361.0
    fixed = plan_judgement_context(JudgementSpec(block_seconds=100), (10, DEMO_FEATURES),
                                   (0.0, 1.0), None)  # fmt: skip
    assert fixed.block_seconds == 100.0
    assert (demo.started_at, demo.now, demo.seed) == (1000.0, 2000.0, 1000)


def test_calibration_looks_cover_every_pooled_run() -> None:
    spec = parse_judgement({"budget": "9m"}, "judgement")
    one = plan_judgement_context(spec, (10, DEMO_FEATURES), (0.0, 1.0), None)
    four = plan_judgement_context(spec, (10, DEMO_FEATURES), (0.0, 1.0), None, runs=4)
    assert one.planned_looks == 9  # ceil(540 / 71) blocks, and the blocks before its start
    assert four.planned_looks == 36
