"""The circuit breaker's part of a ModelDeployment plan: its state, the effective kill-switch,
the CircuitBreaker and KillSwitch conditions, and the paper results kept in status.

Layer: core (pure). ``planning.decide_modeldeployment`` calls these. The effective kill-switch is
``spec.killSwitch`` or a tripped breaker: the same ConfigMap carries it to the predictors, so a
trip answers HOLD everywhere within a poll, without a restart, exactly like the spec's switch.
"""

from dataclasses import replace

from levibot_operator import constants as c
from levibot_operator.core.intents import EventIntent
from levibot_operator.core.modeldeployment.breaker_state import decide_breaker_state
from levibot_operator.core.modeldeployment.observation import Snapshot
from levibot_operator.core.modeldeployment.spec import ModelDeployment
from levibot_operator.core.modeldeployment.status import Condition, MDStatus, find_condition


def plan_trading(snap: Snapshot, status: MDStatus) -> tuple[MDStatus, tuple[EventIntent, ...]]:
    """``status`` with the breaker's new state and the new paper results, and the Events."""
    seen = snap.trading
    readings = seen.readings if seen.version == status.stable_version else None
    decision = decide_breaker_state(
        status.circuit_breaker,
        snap.md.spec.circuit_breakers,
        version=status.stable_version,
        readings=readings,
        reset_request=seen.reset_request,
        now=snap.now,
    )
    paper = status.paper_trading if seen.paper is None else seen.paper
    return replace(status, circuit_breaker=decision.state, paper_trading=paper), decision.events


def is_kill_switch_on(md: ModelDeployment, status: MDStatus) -> bool:
    """The effective kill-switch: the spec's, or a tripped breaker's."""
    return md.spec.kill_switch or status.circuit_breaker.tripped


def build_kill_switch_condition(md: ModelDeployment, status: MDStatus) -> Condition:
    """KillSwitch: True when either the spec or a tripped breaker holds every answer at HOLD."""
    breaker = status.circuit_breaker
    if md.spec.kill_switch:
        return Condition(
            c.COND_KILL_SWITCH, "True", c.REASON_KILL_SWITCH_ON, "predictors answer HOLD"
        )
    if breaker.tripped:
        message = f"predictors answer HOLD: {breaker.breaker} breaker tripped on {breaker.version}"
        return Condition(c.COND_KILL_SWITCH, "True", c.REASON_BREAKER_TRIPPED, message)
    message = "predictors answer from the model"
    return Condition(c.COND_KILL_SWITCH, "False", c.REASON_KILL_SWITCH_OFF, message)


def build_breaker_condition(md: ModelDeployment, status: MDStatus) -> Condition | None:
    """CircuitBreaker: only on a ModelDeployment that has (or had) breakers."""
    breaker = status.circuit_breaker
    if breaker.tripped:
        message = f"{breaker.breaker} on {breaker.version}: {breaker.message}"
        return Condition(c.COND_CIRCUIT_BREAKER, "True", c.REASON_BREAKER_TRIPPED, message)
    if md.spec.circuit_breakers is not None:
        message = f"every breaker closed on {breaker.version or 'no version yet'}"
        return Condition(c.COND_CIRCUIT_BREAKER, "False", c.REASON_BREAKERS_CLOSED, message)
    if find_condition(status.conditions, c.COND_CIRCUIT_BREAKER) is not None:
        text = "spec.circuitBreakers is not set"
        return Condition(c.COND_CIRCUIT_BREAKER, "False", c.REASON_BREAKERS_REMOVED, text)
    return None
