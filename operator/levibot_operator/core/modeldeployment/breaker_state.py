"""The circuit breaker's state machine, kept in ``status.circuitBreaker`` (issue 15, 4).

Layer: core (pure). Status is the only memory: every decision is a function of the last written
state, the spec, the serving version, this pass's readings (None when no check was due) and the
``levibot.io/reset-breaker`` annotation, so a pass repeated after a crash decides the same.

Closed -> Tripped: the first enabled breaker whose reading trips (``core.modeldeployment.
breakers``). The ModelDeployment's effective kill-switch is then on (every answer HOLD) until the
breaker closes again, which happens only:
- **by hand**: a new value of the ``levibot.io/reset-breaker`` annotation (``kubectl levibot
  reset-breaker``), acted on once (``handledReset`` remembers it);
- **after the cool-down, once the condition has cleared** (``autoReset``, the default): while
  every answer is HOLD the version opens no trade, so the trade breakers are judged on the trades
  opened since the trip (none, unless someone reset by hand meanwhile) and read clear; the
  volatility breaker measures the market (every resolved row, HOLD included), so it clears only
  once the market is back under its bound. After a reset the version serves again on probation:
  the trades before the reset never count again, and the first losing streak or interval below
  the bound trips it anew;
- when the serving version changes (a new stable starts with a closed breaker), or when
  ``spec.circuitBreakers`` is removed.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from levibot_operator.core.fields import format_time, parse_time
from levibot_operator.core.intents import EventIntent
from levibot_operator.core.modeldeployment.breaker_spec import CircuitBreakers
from levibot_operator.core.modeldeployment.breakers import Reading

Json = Mapping[str, Any]
CLOSED = "Closed"
TRIPPED = "Tripped"
EVENT_TRIPPED = "CircuitBreakerTripped"
EVENT_RESET = "CircuitBreakerReset"


@dataclass(frozen=True)
class BreakerState:
    """``status.circuitBreaker``: the serving version's breaker and its last readings."""

    state: str = CLOSED
    version: str = ""  # the serving version it judges
    breaker: str = ""  # the breaker that tripped
    message: str = ""
    tripped_at: str = ""
    since: str = ""  # trades opened before this (the last trip or reset) are not judged
    checked_at: str = ""  # the last reading of the prediction log
    handled_reset: str = ""  # the levibot.io/reset-breaker value acted on
    readings: tuple[Json, ...] = ()

    @property
    def tripped(self) -> bool:
        """Whether the breaker holds the kill-switch on."""
        return self.state == TRIPPED


@dataclass(frozen=True)
class BreakerDecision:
    state: BreakerState
    events: tuple[EventIntent, ...] = ()


def is_check_due(state: BreakerState, spec: CircuitBreakers | None, now: datetime) -> bool:
    """Whether the prediction log is to be read on this pass (every ``intervalSeconds``)."""
    if spec is None:
        return False
    checked = parse_time(state.checked_at)
    return checked is None or now - checked >= timedelta(seconds=spec.interval_seconds)


def find_judged_since(state: BreakerState, version: str) -> datetime | None:
    """The instant from which the serving version's trades count (None: the whole window)."""
    return parse_time(state.since) if state.version == version else None


def build_reading_json(reading: Reading) -> dict[str, Any]:
    """One reading as status JSON."""
    return {
        "breaker": reading.breaker,
        "value": reading.value,
        "limit": reading.limit,
        "tripped": reading.tripped,
        "message": reading.message,
    }


def close_breaker(old: BreakerState, version: str, now: datetime, why: str) -> BreakerDecision:
    """A closed breaker judging ``version`` from ``now``; an Event when it was tripped."""
    same = old.version == version  # a new version's judgement starts afresh
    state = BreakerState(
        version=version, since=format_time(now), handled_reset=old.handled_reset,
        checked_at=old.checked_at if same else "", readings=old.readings if same else (),
    )  # fmt: skip
    text = f"{old.breaker} breaker on {old.version} reset: {why}; predictors answer again"
    return BreakerDecision(state, (EventIntent(EVENT_RESET, text),) if old.tripped else ())


def decide_on_readings(
    old: BreakerState, spec: CircuitBreakers, readings: tuple[Reading, ...], now: datetime
) -> BreakerDecision:
    """Trip on the first tripped reading; reset after the cool-down once all read clear."""
    checked = replace(
        old, checked_at=format_time(now), readings=tuple(map(build_reading_json, readings))
    )
    tripped = next((r for r in readings if r.tripped), None)
    if not old.tripped and tripped is not None:
        state = replace(
            checked, state=TRIPPED, breaker=tripped.breaker, message=tripped.message,
            tripped_at=format_time(now), since=format_time(now),
        )  # fmt: skip
        text = f"{tripped.breaker} breaker tripped on {old.version}: {tripped.message}; "
        text += "every answer is HOLD"
        return BreakerDecision(state, (EventIntent(EVENT_TRIPPED, text, "Warning"),))
    if old.tripped and tripped is None and is_cooled_down(old, spec, now):
        why = f"cool-down of {spec.cool_down_seconds}s over and every breaker reads clear"
        return close_breaker(checked, old.version, now, why)
    return BreakerDecision(checked)


def is_cooled_down(state: BreakerState, spec: CircuitBreakers, now: datetime) -> bool:
    """Whether a tripped breaker may reset by itself (``autoReset`` and the cool-down over)."""
    tripped_at = parse_time(state.tripped_at)
    if not spec.auto_reset or tripped_at is None:
        return False
    return now - tripped_at >= timedelta(seconds=spec.cool_down_seconds)


def decide_identity(
    old: BreakerState, spec: CircuitBreakers | None, version: str, now: datetime
) -> BreakerDecision:
    """No breakers, no serving version yet, or a new serving version."""
    if spec is None:  # a stale closed record is harmless; a tripped one is closed once
        if not old.tripped:
            return BreakerDecision(old)
        return close_breaker(old, old.version, now, "spec.circuitBreakers removed")
    if not version:
        return BreakerDecision(old)
    return close_breaker(old, version, now, f"the serving version is now {version}")


def decide_breaker_state(
    old: BreakerState,
    spec: CircuitBreakers | None,
    *,
    version: str,
    readings: tuple[Reading, ...] | None,
    reset_request: str | None,
    now: datetime,
) -> BreakerDecision:
    """The breaker after this pass (see the module docstring for every rule)."""
    if spec is None or not version or old.version != version:
        return decide_identity(old, spec, version, now)
    if reset_request and reset_request != old.handled_reset:
        decision = close_breaker(old, version, now, "reset by hand")
        return replace(decision, state=replace(decision.state, handled_reset=reset_request))
    if readings is None:
        return BreakerDecision(old)
    return decide_on_readings(old, spec, readings, now)


def parse_breaker_state(obj: Json | None) -> BreakerState:
    """``status.circuitBreaker`` (lenient: an unreadable field is absent)."""
    obj = obj if isinstance(obj, Mapping) else {}

    def text(key: str) -> str:
        value = obj.get(key)
        return value if isinstance(value, str) else ""

    readings = obj.get("readings")
    return BreakerState(
        state=TRIPPED if text("state") == TRIPPED else CLOSED,
        version=text("version"),
        breaker=text("breaker"),
        message=text("message"),
        tripped_at=text("trippedAt"),
        since=text("since"),
        checked_at=text("checkedAt"),
        handled_reset=text("handledReset"),
        readings=tuple(r for r in readings if isinstance(r, Mapping))
        if isinstance(readings, list)
        else (),
    )


def build_breaker_json(state: BreakerState) -> dict[str, Any] | None:
    """``status.circuitBreaker`` as a merge patch value (None clears it)."""
    if state == BreakerState():
        return None
    return {
        "state": state.state,
        "version": state.version or None,
        "breaker": state.breaker or None,
        "message": state.message or None,
        "trippedAt": state.tripped_at or None,
        "since": state.since or None,
        "checkedAt": state.checked_at or None,
        "handledReset": state.handled_reset or None,
        "readings": [dict(r) for r in state.readings],
    }
