"""Manual controls that start over: retry a finished canary, restart the current analysis.

Layer: core (pure), called by the state machine. Both follow the resume annotation's rule: the
annotation's value is a token, acted on once (``status.handledRetry`` / ``handledRestart``
remember the last one), so an annotation left in place, or in Git, never acts twice.

- ``retry`` (``levibot.io/retry``) on a RolledBack or Failed canary: a new attempt from Pending
  and step 0, history and handled tokens kept. A rolled-back candidate is tried again (its
  registry status back to ``candidate`` with a note; a train-a-new-version canary keeps the
  version it trained), a failed one is chosen afresh (trained again when the spec says so). The
  candidate Deployment is scaled up again by the first setWeight step. A retry is refused (the
  token spent, a Warning Event) while ``levibot.io/abort`` or ``levibot.io/promote`` is still
  set: it would be rolled back or promoted on the next tick.
- ``restart`` (``levibot.io/restart``) on a Progressing or Paused canary at an analysis step:
  a fresh run of that step (counters reset, and the judgement's pooled rows start again from
  now), weights unchanged. Elsewhere the token is spent with nothing to restart.
"""

from dataclasses import replace
from datetime import datetime

from levibot_operator import constants as c
from levibot_operator.core.canary.decision import CanaryDecision, CanaryObservation, CanaryState
from levibot_operator.core.canary.spec import ANNOTATION_ABORT, ANNOTATION_PROMOTE, AnalysisStep
from levibot_operator.core.canary.status import CanaryStatus, Phase
from levibot_operator.core.canary.transitions import (
    build_decision,
    build_event,
    enter_step,
    transition,
)
from levibot_operator.core.intents import SetRegistryStatus

RETRYABLE = frozenset({Phase.ROLLED_BACK, Phase.FAILED})
RESTARTABLE = frozenset({Phase.PROGRESSING, Phase.PAUSED})


def build_fresh_status(spec_version: str | None, old: CanaryStatus, token: str) -> CanaryStatus:
    """Pending again, with the memory a new attempt keeps: history, tokens, and the trained
    candidate of a rolled-back train-a-new-version canary (it served, so it exists)."""
    kept = old.candidate_version if old.phase is Phase.ROLLED_BACK and not spec_version else None
    return CanaryStatus(
        candidate_version=kept,
        handled_resume=old.handled_resume,
        handled_retry=token,
        handled_restart=old.handled_restart,
        history=old.history,
    )


def decide_retry(
    state: CanaryState, status: CanaryStatus, seen: CanaryObservation, now: datetime
) -> CanaryDecision | None:
    """A new attempt of a RolledBack or Failed canary, once per token; None: no retry asked."""
    token = seen.controls.retry
    if token is None or token == status.handled_retry or status.phase not in RETRYABLE:
        return None
    if seen.controls.abort or seen.controls.promote:
        message = f"retry {token} refused: remove {ANNOTATION_ABORT} and {ANNOTATION_PROMOTE}"
        event = build_event(c.REASON_RETRY_REFUSED, message, warning=True)
        return build_decision(replace(status, handled_retry=token), event, requeue=None)
    fresh = build_fresh_status(state.spec.candidate_version, status, token)
    message = f"retry {token}: a new attempt after {status.phase.value} ({status.reason})"
    decision = transition(fresh, now, Phase.PENDING, c.REASON_RETRIED, message)
    rejected = status.candidate_version if status.phase is Phase.ROLLED_BACK else None
    if rejected is None:
        return decision
    note = f"retried by canary ({token}) after: {status.message}"
    return replace(decision, registry=(SetRegistryStatus(rejected, c.REGISTRY_CANDIDATE, note),))


def decide_restart(
    state: CanaryState, status: CanaryStatus, seen: CanaryObservation, now: datetime
) -> CanaryDecision | None:
    """A fresh run of the current analysis step, once per token; None: no restart asked."""
    token = seen.controls.restart
    if token is None or token == status.handled_restart or status.phase not in RESTARTABLE:
        return None
    spent = replace(status, handled_restart=token)
    index = status.current_step
    step = state.spec.steps[index] if index < len(state.spec.steps) else None
    if not isinstance(step, AnalysisStep):
        message = f"restart {token}: step {index + 1} is not an analysis, nothing to restart"
        return build_decision(spent, build_event(c.REASON_RESTARTED, message))
    return enter_step(state, replace(spent, judgement_since=None), index, now, c.REASON_RESTARTED)
