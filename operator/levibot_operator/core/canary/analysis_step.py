"""The analysis step of the canary machine: measure when due, then conclude the run.

Layer: core (pure), in ``canary``; called by ``machine`` for an ``analysis`` step. A failed run
rolls back; an errored one holds traffic and pauses until the metrics answer; an inconclusive
one pauses for a resume; a passed one enters the next step. A run with a judgement that spends
its budget without a verdict pauses or rolls back (``onInconclusive``), and every judgement
check that reaches a new verdict is announced by an Event.
"""

from dataclasses import replace
from datetime import datetime

from levibot_operator import constants as c
from levibot_operator.core.canary.analysis import CheckVerdict, Verdict, first_failure
from levibot_operator.core.canary.decision import CanaryDecision, CanaryObservation, CanaryState
from levibot_operator.core.canary.run import (
    RunOutcome,
    assess_run,
    is_measurement_due,
    plan_next_measurement,
    record_measurement,
)
from levibot_operator.core.canary.spec import AnalysisStep
from levibot_operator.core.canary.status import CanaryStatus, Phase
from levibot_operator.core.canary.transitions import (
    NOW,
    build_decision,
    build_event,
    enter_step,
    roll_back,
    transition,
)
from levibot_operator.core.intents import EventIntent


def decide_analysis_step(
    state: CanaryState,
    status: CanaryStatus,
    step: AnalysisStep,
    seen: CanaryObservation,
    now: datetime,
) -> CanaryDecision:
    """Measure when due; enter the step first if its run has not started."""
    run = status.analysis
    if run is None or run.step != status.current_step:
        return enter_step(state, status, status.current_step, now)
    if seen.measurement is None or not is_measurement_due(run, step.analysis, now):
        wait = max(plan_next_measurement(run, step.analysis) - now, NOW)
        return build_decision(status, requeue=wait)
    run = record_measurement(run, seen.measurement, now)
    error = seen.measurement.error
    checks = seen.measurement.verdicts if error is None else status.checks
    measured = replace(status, analysis=run, checks=checks)
    decision = conclude_run(state, measured, step, error, now)
    events = build_verdict_events(status.checks, checks)
    return replace(decision, events=(*events, *decision.events)) if events else decision


def build_verdict_events(
    old: tuple[CheckVerdict, ...], new: tuple[CheckVerdict, ...]
) -> tuple[EventIntent, ...]:
    """An Event for every judgement check (one with an effective n) whose verdict changed."""
    before = {check.name: check.verdict for check in old}
    return tuple(
        build_event(
            c.REASON_CHECK_VERDICT,
            f"{check.name}: {check.verdict.value}: {check.describe()}: {check.reason}",
            warning=check.is_failing,
        )
        for check in new
        if check.n_eff is not None and check.verdict is not Verdict.READING
        and before.get(check.name) is not check.verdict
    )  # fmt: skip


def conclude_run(
    state: CanaryState,
    status: CanaryStatus,
    step: AnalysisStep,
    error: str | None,
    now: datetime,
) -> CanaryDecision:
    """What the run adds up to: roll back, hold, pause, go on, or measure again."""
    assert status.analysis is not None  # set by the caller
    outcome = assess_run(status.analysis, step.analysis, now)
    failing = first_failure(status.checks) if error is None else None
    if outcome is RunOutcome.FAILED:
        text = failing.describe() if failing else "measurements failed"
        return roll_back(status, now, c.REASON_ANALYSIS_FAILED, f"analysis failed: {text}")
    if outcome is RunOutcome.ERRORED:
        # The metrics source is down, not the model: hold traffic where it is (no promotion, no
        # rollback, nothing written to the registry) and resume by itself once it answers.
        message = f"analysis errored ({error}): traffic held; resumes when metrics answer"
        return transition(
            status, now, Phase.PAUSED, c.REASON_ANALYSIS_ERROR, message, warning=True,
            requeue=step.analysis.interval,
        )  # fmt: skip
    if outcome is RunOutcome.OUT_OF_BUDGET:
        return conclude_out_of_budget(status, step, now)
    if outcome is RunOutcome.INCONCLUSIVE:
        message = "analysis inconclusive: waiting for a resume (or abort)"
        return transition(
            status, now, Phase.PAUSED, c.REASON_ANALYSIS_INCONCLUSIVE, message, warning=True
        )
    if outcome is RunOutcome.PASSED:
        return enter_step(state, status, status.current_step + 1, now, c.REASON_ANALYSIS_PASSED)
    reason = c.REASON_MEASUREMENT_FAILED
    events = (build_event(reason, failing.describe(), warning=True),) if failing else ()
    return build_decision(status, *events, requeue=step.analysis.interval)


def conclude_out_of_budget(
    status: CanaryStatus, step: AnalysisStep, now: datetime
) -> CanaryDecision:
    """The judgement's budget ended without a verdict: ``onInconclusive`` pauses or rolls back."""
    judgement = step.analysis.judgement
    assert judgement is not None  # only a run with a judgement has a budget
    budget = int(judgement.budget.total_seconds())
    message = f"judgement without a verdict after its budget of {budget} s"
    if judgement.on_inconclusive == "rollback":
        return roll_back(
            status, now, c.REASON_OUT_OF_BUDGET, f"{message} (onInconclusive: rollback)"
        )
    return transition(
        status, now, Phase.PAUSED, c.REASON_OUT_OF_BUDGET,
        f"{message}: waiting for a resume (or abort)", warning=True,
    )  # fmt: skip
