"""Circuit breakers (issue 15, 4): each breaker's reading, the Wilson interval rule, the spec's
seed defaults, and the state machine (trip, cool-down, reset by hand, idempotence)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from levibot_common.trading import Trades
from levibot_operator.core.fields import SpecError, format_time
from levibot_operator.core.modeldeployment.breaker_spec import (
    CircuitBreakers,
    LosingStreakBreaker,
    parse_circuit_breakers,
)
from levibot_operator.core.modeldeployment.breaker_state import (
    CLOSED,
    TRIPPED,
    BreakerState,
    build_breaker_json,
    decide_breaker_state,
    is_check_due,
    parse_breaker_state,
)
from levibot_operator.core.modeldeployment.breakers import (
    TradingInput,
    assess_breakers,
    assess_drawdown,
    assess_losing_streak,
    assess_volatility,
    assess_win_rate,
    count_losing_streak,
)
from tests.operator.support.fakes import NOW

SPEC = CircuitBreakers()


def trades_of(net: list[float]) -> Trades:
    n = len(net)
    return Trades(
        np.array(["BTCUSDT"] * n, dtype=object), np.arange(n, dtype=np.float64) * 60.0,
        np.ones(n, dtype=np.int8), np.array(net) + 0.003, np.array(net, dtype=np.float64),
    )  # fmt: skip


def wins_losses(wins: int, losses: int) -> list[float]:
    """``wins`` winning trades then ``losses`` losing ones (so no trailing streak of wins)."""
    return [0.01] * wins + [-0.01] * losses


# -- the spec -----------------------------------------------------------------------------------


def test_absent_spec_means_no_breaker_and_empty_means_the_seed_figures() -> None:
    assert parse_circuit_breakers(None) is None
    spec = parse_circuit_breakers({})
    assert spec == SPEC
    assert (spec.win_rate.minimum, spec.win_rate.trades) == (0.40, 20)
    assert spec.drawdown.maximum == 0.15
    assert spec.losing_streak.trades == 5
    assert spec.volatility.multiple == 3.0


def test_spec_errors_name_the_field() -> None:
    with pytest.raises(SpecError, match=r"spec.circuitBreakers.winRate.minimum"):
        parse_circuit_breakers({"winRate": {"minimum": 1.5}})
    with pytest.raises(SpecError, match=r"spec.circuitBreakers.losingStreak.trades"):
        parse_circuit_breakers({"losingStreak": {"trades": 0}})
    off = parse_circuit_breakers({"volatility": {"enabled": False}, "autoReset": False})
    assert off is not None
    assert not off.volatility.enabled
    assert not off.auto_reset


# -- each breaker -------------------------------------------------------------------------------


def test_win_rate_is_judged_by_the_interval_not_the_point_estimate() -> None:
    # 7/20 = 35 % is below 40 %, but its 95 % interval reaches 0.57: not proven, no trip
    seven = assess_win_rate(np.array(wins_losses(7, 13)), 0.40, 20)
    assert not seven.tripped
    assert seven.value is not None
    assert seven.value > 0.40
    # 3/20: Wilson upper bound 0.36 < 0.40
    three = assess_win_rate(np.array(wins_losses(3, 17)), 0.40, 20)
    assert three.tripped
    assert three.value == pytest.approx(0.3604, abs=1e-3)
    # 4/20: upper bound 0.42, still not proven
    assert not assess_win_rate(np.array(wins_losses(4, 16)), 0.40, 20).tripped


def test_win_rate_waits_for_its_trades_and_reads_only_the_last_ones() -> None:
    assert assess_win_rate(np.array([-0.01] * 19), 0.40, 20).value is None
    recent = np.array([-0.01] * 30 + wins_losses(12, 8))  # the old losses are out of the 20
    assert not assess_win_rate(recent, 0.40, 20).tripped


def test_drawdown_is_the_current_fall_below_the_running_peak() -> None:
    reading = assess_drawdown(trades_of([0.10, -0.05, -0.12]), 0.15)
    assert reading.value == pytest.approx(0.17)
    assert reading.tripped
    recovered = assess_drawdown(trades_of([0.10, -0.12, 0.05]), 0.15)
    assert recovered.value == pytest.approx(0.07)
    assert not recovered.tripped
    from_zero = assess_drawdown(trades_of([-0.16]), 0.15)  # the curve starts at 0
    assert from_zero.tripped
    assert assess_drawdown(trades_of([]), 0.15).value == 0.0


def test_losing_streak_counts_trailing_losses_and_a_zero_net_is_a_loss() -> None:
    assert count_losing_streak(np.array([0.01, -0.01, 0.0, -0.02])) == 3
    assert count_losing_streak(np.array([-0.01] * 4 + [0.01])) == 0
    assert assess_losing_streak(np.array([-0.01] * 5), 5).tripped
    assert not assess_losing_streak(np.array([-0.01] * 4), 5).tripped


def test_volatility_against_the_training_period() -> None:
    returns = np.array([0.004, -0.004] * 20)  # std ~0.00405
    assert assess_volatility(returns, 0.001, 3.0, 30).tripped
    assert not assess_volatility(returns, 0.002, 3.0, 30).tripped
    assert assess_volatility(returns, None, 3.0, 30).value is None  # no training figure
    assert assess_volatility(returns[:10], 0.001, 3.0, 30).value is None  # too few returns


def test_disabled_breakers_give_no_reading() -> None:
    spec = CircuitBreakers(losing_streak=LosingStreakBreaker(enabled=False))
    data = TradingInput(trades_of([-0.01] * 6), np.zeros(0), None)
    names = [r.breaker for r in assess_breakers(data, spec)]
    assert names == ["winRate", "drawdown", "volatility"]
    assert [r.breaker for r in assess_breakers(data, SPEC) if r.tripped] == ["losingStreak"]


# -- the state machine --------------------------------------------------------------------------


def losing_readings() -> tuple:
    return assess_breakers(TradingInput(trades_of([-0.01] * 5), np.zeros(0), None), SPEC)


def clear_readings() -> tuple:
    return assess_breakers(TradingInput(trades_of([]), np.zeros(0), None), SPEC)


def decide(  # type: ignore[no-untyped-def]
    old: BreakerState, readings: tuple | None, *, now=NOW, reset=None, spec=SPEC, v="v1"
):
    return decide_breaker_state(
        old, spec, version=v, readings=readings, reset_request=reset, now=now
    )


def closed_v1() -> BreakerState:
    return decide(BreakerState(), None).state


def test_a_new_serving_version_starts_closed_and_judged_from_now() -> None:
    state = closed_v1()
    assert (state.state, state.version, state.since) == (CLOSED, "v1", "2026-11-21T12:00:00Z")


def test_a_losing_streak_trips_with_a_warning_event_and_the_decision_is_idempotent() -> None:
    first = decide(closed_v1(), losing_readings())
    assert first.state.state == TRIPPED
    assert first.state.breaker == "losingStreak"
    assert [(e.reason, e.type) for e in first.events] == [("CircuitBreakerTripped", "Warning")]
    again = decide(first.state, losing_readings())  # a repeated pass (a crash after the write)
    assert again.state.tripped
    assert again.events == ()
    assert again.state.tripped_at == first.state.tripped_at
    assert parse_breaker_state(build_breaker_json(first.state)) == first.state


def test_a_trip_holds_through_the_cool_down_then_resets_once_clear() -> None:
    tripped = decide(closed_v1(), losing_readings()).state
    early = decide(tripped, clear_readings(), now=NOW + timedelta(seconds=3599))
    assert early.state.tripped
    assert early.events == ()
    later = NOW + timedelta(seconds=3600)
    still = decide(tripped, losing_readings(), now=later)  # not cleared: stays tripped
    assert still.state.tripped
    reset = decide(tripped, clear_readings(), now=later)
    assert reset.state.state == CLOSED
    assert reset.state.since == "2026-11-21T13:00:00Z"
    assert [e.reason for e in reset.events] == ["CircuitBreakerReset"]


def test_without_auto_reset_only_a_hand_resets() -> None:
    spec = CircuitBreakers(auto_reset=False)
    tripped = decide(closed_v1(), losing_readings(), spec=spec).state
    day = NOW + timedelta(days=1)
    assert decide(tripped, clear_readings(), now=day, spec=spec).state.tripped
    by_hand = decide(tripped, None, now=day, reset="t1", spec=spec)
    assert by_hand.state.state == CLOSED
    assert by_hand.state.handled_reset == "t1"
    assert [e.reason for e in by_hand.events] == ["CircuitBreakerReset"]
    # the same token again does nothing; the next trip needs a new one
    tripped_again = decide(by_hand.state, losing_readings(), now=day, reset="t1", spec=spec)
    assert tripped_again.state.tripped
    assert decide(tripped_again.state, None, now=day, reset="t1", spec=spec).state.tripped


def test_a_new_stable_version_or_removed_spec_closes_a_trip() -> None:
    tripped = decide(closed_v1(), losing_readings()).state
    moved = decide(tripped, None, v="v2")
    assert moved.state.readings == ()  # v1's readings say nothing about v2
    assert (moved.state.state, moved.state.version) == (CLOSED, "v2")
    removed = decide_breaker_state(
        tripped, None, version="v1", readings=None, reset_request=None, now=NOW
    )
    assert removed.state.state == CLOSED
    assert [e.reason for e in removed.events] == ["CircuitBreakerReset"]


def test_checks_are_due_every_interval() -> None:
    state = decide(closed_v1(), clear_readings()).state
    assert not is_check_due(state, SPEC, NOW + timedelta(seconds=29))
    assert is_check_due(state, SPEC, NOW + timedelta(seconds=30))
    assert not is_check_due(state, None, NOW)


def read(state: BreakerState, kind: str, now: datetime) -> tuple | None:  # type: ignore[type-arg]
    """Readings as the shell takes them: on the trades since ``state.since`` only, so no trade
    (and no loss) can be there at the very instant of a trip or reset."""
    if kind == "none":
        return None
    fresh = state.since == format_time(now)
    return clear_readings() if kind == "clear" or fresh else losing_readings()


STEPS = st.tuples(
    st.sampled_from(["lose", "clear", "none"]),
    st.integers(0, 7200),
    st.sampled_from([None, "a", "b"]),
)


@given(steps=st.lists(STEPS, max_size=12))
def test_any_pass_repeated_on_its_own_output_changes_nothing(steps: list) -> None:  # type: ignore[type-arg]
    """The operator may die after writing status and redo the pass: the same pass on the written
    state gives the same state and no new Event; a trip ends only with a reset Event."""
    state, now = closed_v1(), NOW
    for kind, seconds, reset in steps:
        now += timedelta(seconds=seconds)
        first = decide(state, read(state, kind, now), now=now, reset=reset)
        again = decide(first.state, read(first.state, kind, now), now=now, reset=reset)
        assert again.events == ()
        assert again.state.state == first.state.state
        if state.tripped and not first.state.tripped:
            assert [e.reason for e in first.events] == ["CircuitBreakerReset"]
        state = first.state
