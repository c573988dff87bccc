"""Hypothesis properties of the canary core: weights, monotone progress, rollback, replicas."""

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from levibot_operator.core.canary.decision import (
    CanaryObservation,
    CandidateTraining,
    FiringAlert,
    Measurement,
)
from levibot_operator.core.canary.spec import CanaryControls
from levibot_operator.core.canary.status import (
    TERMINAL,
    Phase,
    build_canary_status,
    parse_canary_status,
)
from levibot_operator.core.intents import Scale, TrafficIntent
from levibot_operator.core.traffic.weights import (
    assess_achieved_weight,
    plan_candidate_replicas,
    plan_replicas,
)
from tests.operator.support.canary.builders import (
    ERRORED,
    FAILING,
    INCONCLUSIVE,
    PASSING,
    Driver,
    make_spec,
)

weights = st.lists(st.integers(0, 100), min_size=1, max_size=5).map(sorted)
measurements = st.sampled_from([None, PASSING, PASSING, FAILING, INCONCLUSIVE, ERRORED])
controls = st.builds(
    CanaryControls,
    promote=st.sampled_from([None, None, None, "p"]),
    resume=st.sampled_from([None, "r1", "r2"]),
)
observations = st.builds(
    CanaryObservation,
    stable_version=st.sampled_from(["v1", "v1", None]),
    next_version=st.just("v2"),
    training=st.sampled_from(list(CandidateTraining)),
    candidate_available=st.booleans(),
    achieved_weight=st.floats(0, 100),
    kill_switch=st.booleans(),
    controls=controls,
    alert=st.sampled_from([None, None, None, None, FiringAlert("EceHigh", "v2")]),
    measurement=measurements,
)


def spec_with(ws: list[int], train: bool) -> dict[str, object]:
    steps: list[dict[str, object]] = []
    for w in ws:
        steps += [{"setWeight": w}, {"pause": {"duration": "30s"}}, {"analysis": {}}]
    steps.append({"pause": {"untilResumed": True}})
    candidate = {"train": True} if train else {"version": "v2"}
    return {"steps": steps, "candidate": candidate}


@settings(max_examples=150, deadline=None)
@given(
    ws=weights,
    train=st.booleans(),
    ticks=st.lists(st.tuples(observations, st.integers(0, 120)), max_size=40),
)
def test_weights_stay_in_range_progress_is_monotone_and_rollback_restores_stable(
    ws: list[int], train: bool, ticks: list[tuple[CanaryObservation, int]]
) -> None:
    driver = Driver(make_spec(**spec_with(ws, train)))
    last_weight, last_step = 0, 0
    for observed, seconds in ticks:
        decision = driver.tick(observed, after=seconds)
        status, traffic = decision.status, decision.traffic
        assert 0 <= traffic.weight <= 100
        assert 0 <= status.desired_weight <= 100
        if status.phase is Phase.ROLLED_BACK:
            assert traffic == TrafficIntent(0, Scale.ZERO, Scale.FULL)
            assert [r.status for r in decision.registry] == ["rejected"]
            return
        if status.phase in TERMINAL:
            return
        assert traffic.weight >= last_weight or status.phase is Phase.HALTED
        assert status.current_step >= last_step
        last_weight = max(last_weight, traffic.weight)
        last_step = status.current_step
        assert parse_canary_status(build_canary_status(status)) == status


@given(ws=weights, measurement=st.sampled_from([INCONCLUSIVE, ERRORED, None]))
def test_without_passing_measurements_a_canary_never_promotes(
    ws: list[int], measurement: Measurement | None
) -> None:
    driver = Driver(make_spec(**spec_with(ws, False)))
    for _ in range(30):
        driver.tick(
            CanaryObservation("v1", "v2", candidate_available=True, measurement=measurement),
            after=60,
        )
        assert driver.status.phase not in (Phase.PROMOTING, Phase.SUCCEEDED)


@given(weight=st.integers(0, 100), stable=st.integers(1, 50))
def test_candidate_replicas_never_exceed_the_desired_weight_unless_floored_or_capped(
    weight: int, stable: int
) -> None:
    cap = 10 * stable
    candidate = plan_candidate_replicas(weight, stable, cap)
    achieved = assess_achieved_weight(candidate, stable)
    assert 0 <= candidate <= cap
    assert 0.0 <= achieved <= 100.0
    if weight == 0:
        assert candidate == 0
    elif candidate not in (1, cap):
        assert achieved <= weight + 1e-9  # closest not above…
        assert assess_achieved_weight(candidate + 1, stable) > weight  # …and closest


@given(
    weight=st.integers(0, 100),
    replicas=st.integers(0, 30),
    candidate=st.sampled_from(list(Scale)),
    stable=st.sampled_from([Scale.FULL, Scale.ZERO]),
)
def test_replica_plans_report_the_weight_they_achieve(
    weight: int, replicas: int, candidate: Scale, stable: Scale
) -> None:
    plan = plan_replicas(TrafficIntent(weight, candidate, stable), replicas)
    assert plan.stable == (replicas if stable is Scale.FULL else 0)
    assert 0 <= plan.candidate <= replicas
    assert plan.achieved_weight == assess_achieved_weight(plan.candidate, plan.stable)
    if candidate is Scale.ZERO:
        assert plan.achieved_weight == 0.0


def test_a_rolled_back_canary_stays_rolled_back() -> None:
    driver = Driver(make_spec())
    driver.tick()
    driver.tick(CanaryObservation("v1", "v2", alert=FiringAlert("EceHigh", "v2")))
    for _ in range(5):
        decision = driver.tick(
            CanaryObservation("v1", "v2", candidate_available=True, measurement=PASSING),
            after=int(timedelta(minutes=5).total_seconds()),
        )
        assert decision.traffic.weight == 0
