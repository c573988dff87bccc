"""One analysis run of a canary step: when to measure, and what the counts add up to.

Layer: core (pure). A run measures every ``interval`` (the first time one interval after it
started, so the candidate has served traffic), ``count`` times. It ends:

- *failed* as soon as failures exceed ``failureLimit``, or consecutive query errors exceed
  ``consecutiveErrorLimit`` (errors are not measurements);
- *inconclusive* as soon as inconclusive measurements exceed ``inconclusiveLimit``, or after
  ``count`` measurements none of which passed — an inconclusive run never promotes;
- *passed* after ``count`` measurements otherwise.

A *waiting* measurement (a judgement check has too few finished blocks) is counted apart: it is
not a measurement, so it neither uses up ``count`` nor counts towards ``inconclusiveLimit``. A
run with a judgement that has not ended by its ``budget`` is *out of budget*: the judgement's
``onInconclusive`` says whether it pauses or rolls back. Under a judgement an inconclusive
measurement does not use up ``count`` either (it still counts towards ``inconclusiveLimit``):
an interval that still holds the threshold means "keep measuring until the budget" (issue 13),
so ``count`` counts decided (passed or failed) measurements.
"""

from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from levibot_operator import constants as c
from levibot_operator.core.canary.analysis import Verdict, assess_measurement
from levibot_operator.core.canary.decision import Measurement
from levibot_operator.core.canary.spec import AnalysisSpec
from levibot_operator.core.canary.status import AnalysisRun, CanaryStatus, Phase


class RunOutcome(StrEnum):
    RUNNING = "Running"
    PASSED = "Passed"
    FAILED = "Failed"
    ERRORED = "Errored"
    INCONCLUSIVE = "Inconclusive"
    OUT_OF_BUDGET = "OutOfBudget"


def plan_next_measurement(run: AnalysisRun, analysis: AnalysisSpec) -> datetime:
    """When the next measurement is due."""
    return (run.last_measured_at or run.started_at) + analysis.interval


def is_waiting_for_metrics(status: CanaryStatus) -> bool:
    """Paused because the metrics source errored: it keeps measuring, to resume by itself."""
    return status.phase is Phase.PAUSED and status.reason == c.REASON_ANALYSIS_ERROR


def is_measurement_due(run: AnalysisRun, analysis: AnalysisSpec, now: datetime) -> bool:
    return now >= plan_next_measurement(run, analysis)


def record_measurement(run: AnalysisRun, measurement: Measurement, now: datetime) -> AnalysisRun:
    """Count one measurement (or one error) into the run."""
    if measurement.error is not None:
        return replace(run, last_measured_at=now, consecutive_errors=run.consecutive_errors + 1)
    verdict = assess_measurement(measurement.verdicts)
    return replace(
        run,
        last_measured_at=now,
        consecutive_errors=0,
        waits=run.waits + (verdict is Verdict.WAITING),
        passes=run.passes + (verdict is Verdict.PASS),
        failures=run.failures + (verdict is Verdict.FAIL),
        inconclusives=run.inconclusives + (verdict is Verdict.INCONCLUSIVE),
    )


def is_budget_spent(run: AnalysisRun, analysis: AnalysisSpec, now: datetime) -> bool:
    """A run with a judgement has measured for its whole budget."""
    judgement = analysis.judgement
    return judgement is not None and now - run.started_at >= judgement.budget


def assess_run(run: AnalysisRun, analysis: AnalysisSpec, now: datetime | None = None) -> RunOutcome:
    """The run's outcome so far (see the module docstring for the rules)."""
    if run.failures > analysis.failure_limit:
        return RunOutcome.FAILED
    if run.consecutive_errors > analysis.consecutive_error_limit:
        return RunOutcome.ERRORED
    if run.inconclusives > analysis.inconclusive_limit:
        return RunOutcome.INCONCLUSIVE
    counted = run.passes + run.failures if analysis.judgement else run.measurements
    if counted < analysis.count:
        spent = now is not None and is_budget_spent(run, analysis, now)
        return RunOutcome.OUT_OF_BUDGET if spent else RunOutcome.RUNNING
    return RunOutcome.PASSED if run.passes > 0 else RunOutcome.INCONCLUSIVE
