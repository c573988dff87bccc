"""Transitions shared by the canary state machine's rules: move, decide, roll back, enter a step.

Layer: core (pure). Every transition goes through ``move_status`` (recorded in the bounded
history) and every decision through ``build_decision`` (traffic and registry intents derived
from the status alone, so repeating a decision is harmless).
"""

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from levibot_operator import constants as c
from levibot_operator.core.canary.decision import CanaryDecision, CanaryState, plan_traffic_intent
from levibot_operator.core.canary.spec import PauseStep, SetWeightStep
from levibot_operator.core.canary.status import (
    HISTORY_LIMIT,
    AnalysisRun,
    CanaryStatus,
    HistoryEntry,
    Phase,
)
from levibot_operator.core.intents import (
    EVENT_NORMAL,
    EVENT_WARNING,
    EventIntent,
    SetRegistryStatus,
)

NOW = timedelta(0)


def move_status(
    status: CanaryStatus, now: datetime, phase: Phase, reason: str, message: str, **changes: Any
) -> CanaryStatus:
    """A transition: new phase and fields, recorded in the (bounded) history."""
    step = changes.get("current_step", status.current_step)
    entry = HistoryEntry(now, phase, step, reason, message)
    history = (*status.history, entry)[-HISTORY_LIMIT:]
    return replace(status, phase=phase, reason=reason, message=message, history=history, **changes)


def build_decision(
    status: CanaryStatus,
    *events: EventIntent,
    requeue: timedelta | None = NOW,
    train: str | None = None,
) -> CanaryDecision:
    return CanaryDecision(
        status=status,
        traffic=plan_traffic_intent(status),
        events=events,
        registry=plan_registry_intents(status),
        train_version=train,
        promoted_version=status.candidate_version if status.phase is Phase.SUCCEEDED else None,
        requeue_after=requeue,
    )


def build_event(reason: str, message: str, warning: bool = False) -> EventIntent:
    return EventIntent(reason, message, EVENT_WARNING if warning else EVENT_NORMAL)


def plan_registry_intents(status: CanaryStatus) -> tuple[SetRegistryStatus, ...]:
    """Registry statuses a terminal phase implies (repeated every tick; they are idempotent)."""
    candidate, stable = status.candidate_version, status.stable_version
    if status.phase is Phase.SUCCEEDED and candidate and stable:
        return (
            SetRegistryStatus(candidate, "active", f"promoted over {stable} by canary"),
            SetRegistryStatus(stable, "retired", f"replaced by {candidate}"),
        )
    if status.phase is Phase.ROLLED_BACK and candidate:
        return (SetRegistryStatus(candidate, "rejected", status.message),)
    return ()


def transition(
    status: CanaryStatus,
    now: datetime,
    phase: Phase,
    reason: str,
    message: str,
    *,
    warning: bool = False,
    requeue: timedelta | None = NOW,
    **changes: Any,
) -> CanaryDecision:
    """Move to ``phase`` and announce it with one event carrying the reason and message."""
    moved = move_status(status, now, phase, reason, message, **changes)
    return build_decision(moved, build_event(reason, message, warning), requeue=requeue)


def roll_back(status: CanaryStatus, now: datetime, reason: str, message: str) -> CanaryDecision:
    """All traffic back to stable; the message names the failing check, value and threshold."""
    return transition(
        status,
        now,
        Phase.ROLLED_BACK,
        reason,
        message,
        warning=True,
        requeue=None,
        desired_weight=0,
        analysis=None,
    )


def enter_step(
    state: CanaryState,
    status: CanaryStatus,
    index: int,
    now: datetime,
    reason: str = c.REASON_STEP_STARTED,
) -> CanaryDecision:
    """Start step ``index``; past the last step, start promoting."""
    steps = state.spec.steps
    changes: dict[str, Any] = {"current_step": index, "step_started_at": now, "analysis": None}
    if status.judgement_since is None:  # the candidate is measured (shadow) from its first step
        changes["judgement_since"] = now
    if index >= len(steps):
        changes["current_step"] = len(steps)
        message = "all steps completed"
        return transition(status, now, Phase.PROMOTING, c.REASON_PROMOTING, message, **changes)
    step, phase, text = steps[index], Phase.PROGRESSING, f"step {index + 1}/{len(steps)}: "
    if isinstance(step, SetWeightStep):
        changes["desired_weight"], text = step.weight, text + f"setWeight {step.weight}"
    elif isinstance(step, PauseStep):
        phase, text = Phase.PAUSED, text + "pause"
    else:
        changes["analysis"], text = AnalysisRun(step=index, started_at=now), text + "analysis"
    return transition(status, now, phase, reason, text, **changes)
