"""The canary state machine: ``decide_canary`` steps one tick at a time (Argo Rollouts style).

Layer: core (pure). Pending → (CandidateTraining) → Progressing/Paused through ``spec.steps`` →
Promoting → Succeeded; or RolledBack (analysis failed, alert, abort, deadline), Failed
(training failed, bad candidate), Halted (kill-switch on the target; it resumes where it was).
Precedence each tick: terminal phases only repeat their intents; then abort, a firing alert for
the candidate, a drift only the candidate sees, the kill-switch, the market's drift (a pause,
``core.canary.market_drift``); then the phase's own rule. Abort and alerts act even when
halted (they only ever move traffic back to stable); promote and resume wait for the halt to end.
A retry token starts a RolledBack or Failed canary afresh; a restart token starts the current
analysis over (``core.canary.controls``).
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from levibot_operator import constants as c
from levibot_operator.core.canary.analysis_step import decide_analysis_step
from levibot_operator.core.canary.compatibility import find_provider_conflict
from levibot_operator.core.canary.controls import decide_restart, decide_retry
from levibot_operator.core.canary.decision import (
    CanaryDecision,
    CanaryObservation,
    CanaryState,
    CandidateTraining,
)
from levibot_operator.core.canary.market_drift import (
    decide_candidate_drift,
    decide_market_drift,
    is_drift_alert,
)
from levibot_operator.core.canary.run import (
    is_waiting_for_metrics,
)
from levibot_operator.core.canary.spec import AnalysisStep, PauseStep, SetWeightStep, Step
from levibot_operator.core.canary.status import TERMINAL, CanaryStatus, Phase
from levibot_operator.core.canary.transitions import (
    build_decision,
    enter_step,
    roll_back,
    transition,
)

POLL = timedelta(seconds=5)
ACTIVE = frozenset({Phase.PROGRESSING, Phase.PAUSED, Phase.PROMOTING, Phase.HALTED})
F = Phase.FAILED
DELETED_MESSAGE = "canary deleted"


def _promote_now(status: CanaryStatus, now: datetime) -> CanaryDecision:
    message = "promotion requested by annotation"
    return transition(
        status,
        now,
        Phase.PROMOTING,
        c.REASON_PROMOTING,
        message,
        analysis=None,
        step_started_at=now,
    )


def _past_deadline(state: CanaryState, status: CanaryStatus, now: datetime) -> bool:
    started = status.step_started_at or now
    return now - started > state.spec.progress_deadline


def _decide_pending(
    state: CanaryState, status: CanaryStatus, seen: CanaryObservation, now: datetime
) -> CanaryDecision:
    # A retried canary that trained its candidate keeps it (core.canary.controls).
    stable, version = seen.stable_version, state.spec.candidate_version or status.candidate_version
    if stable is None or (version is None and seen.next_version is None):
        message = f"waiting for ModelDeployment {state.spec.target} to serve a stable version"
        waiting = replace(status, reason=c.REASON_WAITING_FOR_TARGET, message=message)
        return build_decision(waiting, requeue=POLL)
    conflict = find_provider_conflict(state.spec, seen.traffic_provider)
    if conflict is not None:
        message = ": ".join(conflict)
        return transition(
            status, now, F, c.REASON_INVALID_SPEC, message, warning=True, requeue=None
        )
    if version == stable:
        message = f"candidate {version} is already the stable version"
        return transition(
            status, now, F, c.REASON_INVALID_CANDIDATE, message, warning=True, requeue=None
        )
    if version is not None:
        fixed = replace(status, stable_version=stable, candidate_version=version)
        return enter_step(state, fixed, 0, now)
    version = seen.next_version
    message = f"training candidate {version}"
    training = transition(
        status,
        now,
        Phase.TRAINING,
        c.REASON_TRAINING_STARTED,
        message,
        stable_version=stable,
        candidate_version=version,
    )
    return replace(training, train_version=version)


def _decide_training(
    state: CanaryState, status: CanaryStatus, seen: CanaryObservation, now: datetime
) -> CanaryDecision:
    if seen.training is CandidateTraining.SUCCEEDED:
        return enter_step(state, status, 0, now)
    if seen.training is CandidateTraining.FAILED:
        message = f"training of {status.candidate_version} failed"
        message += f": {seen.training_message}" if seen.training_message else ""
        return transition(
            status, now, F, c.REASON_TRAINING_FAILED, message, warning=True, requeue=None
        )
    return build_decision(status, requeue=POLL, train=status.candidate_version)


def _decide_overrides(
    state: CanaryState, status: CanaryStatus, seen: CanaryObservation, now: datetime
) -> CanaryDecision | None:
    """What comes before the current step, progressing or paused: a promote request, then
    a step index past the last step (entering it starts promoting)."""
    if seen.controls.promote:
        return _promote_now(status, now)
    if status.current_step >= len(state.spec.steps):
        return enter_step(state, status, status.current_step, now)
    return None


def _decide_progressing(
    state: CanaryState, status: CanaryStatus, seen: CanaryObservation, now: datetime
) -> CanaryDecision:
    if (override := _decide_overrides(state, status, seen, now)) is not None:
        return override
    step = state.spec.steps[status.current_step]
    if isinstance(step, AnalysisStep):
        return decide_analysis_step(state, status, step, seen, now)
    weight = step.weight if isinstance(step, SetWeightStep) else 0
    if weight == 0 or seen.candidate_available:
        return enter_step(state, status, status.current_step + 1, now)
    if _past_deadline(state, status, now):
        message = f"candidate {status.candidate_version} not available at weight {weight}"
        return roll_back(status, now, c.REASON_PROGRESS_DEADLINE, message)
    return build_decision(status, requeue=POLL)


def _decide_paused(
    state: CanaryState, status: CanaryStatus, seen: CanaryObservation, now: datetime
) -> CanaryDecision:
    if (override := _decide_overrides(state, status, seen, now)) is not None:
        return override
    step = state.spec.steps[status.current_step]
    if isinstance(step, AnalysisStep) and is_waiting_for_metrics(status):
        return _probe_metrics(state, status, step, seen, now)
    if isinstance(step, PauseStep) and step.duration is not None:
        ends = (status.step_started_at or now) + step.duration
        if now >= ends:
            return enter_step(state, status, status.current_step + 1, now)
        return build_decision(status, requeue=ends - now)
    return _wait_for_resume(state, status, step, seen, now)


def _wait_for_resume(
    state: CanaryState,
    status: CanaryStatus,
    step: Step,
    seen: CanaryObservation,
    now: datetime,
) -> CanaryDecision:
    token = seen.controls.resume
    if token is None or token == status.handled_resume:
        return build_decision(status, requeue=None)
    resumed = replace(status, handled_resume=token)
    # A resumed inconclusive analysis starts a fresh run at the same step.
    following = status.current_step + (0 if isinstance(step, AnalysisStep) else 1)
    return enter_step(state, resumed, following, now, c.REASON_RESUMED)


def _probe_metrics(
    state: CanaryState,
    status: CanaryStatus,
    step: AnalysisStep,
    seen: CanaryObservation,
    now: datetime,
) -> CanaryDecision:
    """Paused because the metrics source errored: the first answer starts a fresh run at the
    same step (a resume token works too, through the caller's usual rule)."""
    measurement = seen.measurement
    if measurement is not None and measurement.error is None:
        return enter_step(state, status, status.current_step, now, c.REASON_METRICS_RECOVERED)
    return build_decision(status, requeue=step.analysis.interval)


def _decide_promoting(
    state: CanaryState, status: CanaryStatus, seen: CanaryObservation, now: datetime
) -> CanaryDecision:
    if seen.candidate_available:
        message = f"{status.candidate_version} promoted over {status.stable_version}"
        return transition(
            status,
            now,
            Phase.SUCCEEDED,
            c.REASON_PROMOTED,
            message,
            requeue=None,
            desired_weight=100,
        )
    if _past_deadline(state, status, now):
        message = f"candidate {status.candidate_version} not available at full scale"
        return roll_back(status, now, c.REASON_PROGRESS_DEADLINE, message)
    return build_decision(status, requeue=POLL)


def _decide_halt(
    status: CanaryStatus, seen: CanaryObservation, now: datetime
) -> CanaryDecision | None:
    if seen.kill_switch and status.phase is not Phase.HALTED:
        message = f"kill-switch on the target: frozen while {status.phase.value}"
        return transition(
            status,
            now,
            Phase.HALTED,
            c.REASON_HALTED,
            message,
            warning=True,
            requeue=None,
            halted_from=status.phase,
        )
    if status.phase is Phase.HALTED and seen.kill_switch:
        return build_decision(status, requeue=None)
    if status.phase is Phase.HALTED:
        back = status.halted_from or Phase.PENDING
        message = f"kill-switch cleared: back to {back.value}"
        return transition(status, now, back, c.REASON_UNHALTED, message, halted_from=None)
    return None


def _decide_safety(
    status: CanaryStatus, seen: CanaryObservation, now: datetime
) -> CanaryDecision | None:
    """Abort and candidate alerts act at once; an abort before serving ends as Failed."""
    if seen.controls.abort:
        message = "aborted by annotation"
        if status.phase in ACTIVE:
            return roll_back(status, now, c.REASON_ABORTED, message)
        return transition(status, now, F, c.REASON_ABORTED, message, warning=True, requeue=None)
    alert = seen.alert
    if alert and is_drift_alert(alert.alertname):  # the market's or not: market_drift decides
        return None
    if alert and status.phase in ACTIVE and alert.version == status.candidate_version:
        value = f": {alert.value}" if alert.value else ""
        message = f"alert {alert.alertname} firing for {alert.version}{value}"
        return roll_back(status, now, c.REASON_ALERT_FIRING, message)
    return None


Rule = Callable[[CanaryState, CanaryStatus, CanaryObservation, datetime], CanaryDecision]
_RULES: dict[Phase, Rule] = {
    Phase.PENDING: _decide_pending,
    Phase.TRAINING: _decide_training,
    Phase.PROGRESSING: _decide_progressing,
    Phase.PAUSED: _decide_paused,
    Phase.PROMOTING: _decide_promoting,
}


def decide_canary(state: CanaryState, observed: CanaryObservation, now: datetime) -> CanaryDecision:
    """One tick: the next status and what to apply. Deterministic; the status is the memory."""
    status = replace(state.status, achieved_weight=observed.achieved_weight)
    retried = decide_retry(state, status, observed, now)
    if retried is not None:
        return retried
    if status.phase in TERMINAL:
        # Look again until the traffic has settled, so status shows the weight that is real.
        settled = status.achieved_weight == (100.0 if status.phase is Phase.SUCCEEDED else 0.0)
        return build_decision(status, requeue=None if settled else POLL)
    early = (
        _decide_safety(status, observed, now)
        or decide_candidate_drift(status, observed, now)
        or _decide_halt(status, observed, now)
        or decide_market_drift(state, status, observed, now)
    )
    if early is not None:
        return early
    restarted = decide_restart(state, status, observed, now)
    if restarted is not None:
        return restarted
    return _RULES[status.phase](state, status, observed, now)


def decide_deletion(status: CanaryStatus, now: datetime) -> CanaryDecision | None:
    """A live canary being deleted rolls back like an abort (Flagger's finalizer does the same):
    all traffic to stable, the candidate scaled to zero and rejected with "canary deleted".
    None when nothing is left to undo (finished, or no candidate chosen yet)."""
    if status.phase in TERMINAL or status.candidate_version is None:
        return None
    return roll_back(status, now, c.REASON_DELETED, DELETED_MESSAGE)
