"""An analysis step with a judgement through the canary machine: waiting is not inconclusive,
a judgement verdict decides, the budget ends a run, an Event per verdict (core, pure)."""

from typing import Any

import numpy as np

from levibot_operator import constants as c
from levibot_operator.core.canary.analysis import (
    CheckVerdict,
    Query,
    Verdict,
    assess_measurement,
    first_failure,
)
from levibot_operator.core.canary.decision import Measurement
from levibot_operator.core.canary.judgement import (
    JudgementContext,
    PairedRows,
    assess_judgement,
)
from levibot_operator.core.canary.judgement_checks import assess_judged_checks
from levibot_operator.core.canary.spec import AnalysisStep, Thresholds
from levibot_operator.core.canary.status import (
    Phase,
    build_canary_status,
    parse_canary_status,
)
from tests.operator.support.canary.builders import ANALYSIS, Driver, make_spec, observe


def judged(verdict: Verdict, name: str = "agreement", gating: bool = True) -> CheckVerdict:
    return CheckVerdict(
        name, 0.01, 0.03, "<=", verdict, verdict.value, lower=0.0, upper=0.02, n=900, n_eff=9,
        gating=gating,
    )  # fmt: skip


def measurement(*checks: CheckVerdict) -> Measurement:
    return Measurement(verdicts=checks)


WAITING = measurement(judged(Verdict.WAITING))
EQUIVALENT = measurement(judged(Verdict.EQUIVALENT), judged(Verdict.PASS, "calibration"))
DIFFERENT = measurement(judged(Verdict.DIFFERENT))
UNSURE = measurement(judged(Verdict.INCONCLUSIVE))


def at_judged_analysis(**judgement: Any) -> Driver:
    analysis = {**ANALYSIS, "judgement": {"budget": "10m", **judgement}}
    driver = Driver(make_spec(analysis=analysis))
    driver.tick()
    driver.tick()
    driver.tick(after=60)
    assert (driver.status.phase, driver.status.current_step) == (Phase.PROGRESSING, 2)
    return driver


def test_measurement_verdicts() -> None:
    reading = judged(Verdict.FAIL, "ece", gating=False)
    assert assess_measurement((judged(Verdict.EQUIVALENT), reading)) is Verdict.PASS
    assert assess_measurement((judged(Verdict.WAITING), judged(Verdict.PASS))) is Verdict.WAITING
    unsure = (judged(Verdict.WAITING), judged(Verdict.INCONCLUSIVE))
    assert assess_measurement(unsure) is Verdict.INCONCLUSIVE
    assert assess_measurement((judged(Verdict.DIFFERENT), judged(Verdict.PASS))) is Verdict.FAIL
    assert assess_measurement((judged(Verdict.DIFFERENT, gating=False),)) is Verdict.INCONCLUSIVE
    assert first_failure((reading, judged(Verdict.DIFFERENT))) == judged(Verdict.DIFFERENT)


def test_waiting_never_counts_towards_the_inconclusive_limit() -> None:
    driver = at_judged_analysis()
    for _ in range(5):  # inconclusiveLimit is 1, count 3
        decision = driver.tick(observe(measurement=WAITING), after=60)
    assert decision.status.phase is Phase.PROGRESSING
    run = decision.status.analysis
    assert run is not None
    assert (run.waits, run.measurements, run.inconclusives) == (5, 0, 0)
    assert decision.status.checks[0].verdict is Verdict.WAITING


def test_equivalent_passes_the_run_after_count_measurements() -> None:
    driver = at_judged_analysis()
    driver.tick(observe(measurement=WAITING), after=60)
    for _ in range(3):
        decision = driver.tick(observe(measurement=EQUIVALENT), after=60)
    assert decision.status.current_step == 3
    assert c.REASON_ANALYSIS_PASSED in [e.reason for e in decision.events]


def test_different_rolls_back_naming_the_check_its_estimate_and_bounds() -> None:
    driver = at_judged_analysis()
    decision = driver.tick(observe(measurement=DIFFERENT), after=60)
    assert decision.status.phase is Phase.ROLLED_BACK
    assert (
        decision.status.message == "analysis failed: agreement=0.01 [0, 0.02] (threshold <= 0.03)"
    )


def test_every_new_verdict_is_an_event_once() -> None:
    driver = at_judged_analysis()
    first = driver.tick(observe(measurement=WAITING), after=60)
    again = driver.tick(observe(measurement=WAITING), after=60)
    then = driver.tick(observe(measurement=EQUIVALENT), after=60)
    assert [e.reason for e in first.events] == [c.REASON_CHECK_VERDICT]
    assert first.events[0].message.startswith("agreement: Waiting: agreement=0.01 [0, 0.02]")
    assert again.events == ()
    assert [e.message.split(":")[:2] for e in then.events] == [
        ["agreement", " Equivalent"],
        ["calibration", " Pass"],
    ]


def test_the_budget_pauses_by_default() -> None:
    driver = at_judged_analysis()
    for _ in range(9):
        decision = driver.tick(observe(measurement=WAITING), after=60)
    assert decision.status.phase is Phase.PROGRESSING
    decision = driver.tick(observe(measurement=WAITING), after=60)
    assert (decision.status.phase, decision.status.reason) == (Phase.PAUSED, c.REASON_OUT_OF_BUDGET)
    assert "budget of 600 s" in decision.status.message


def test_the_budget_rolls_back_when_the_spec_says_so() -> None:
    driver = at_judged_analysis(onInconclusive="rollback", budget="3m")
    driver.tick(observe(measurement=UNSURE), after=60)  # inconclusiveLimit 1: one is tolerated
    driver.tick(observe(measurement=WAITING), after=60)
    decision = driver.tick(observe(measurement=WAITING), after=60)
    assert (decision.status.phase, decision.status.reason) == (
        Phase.ROLLED_BACK,
        c.REASON_OUT_OF_BUDGET,
    )


def test_judged_checks_round_trip_through_the_status() -> None:
    rng = np.random.default_rng(0)
    ts = 1000.0 + np.arange(600.0)
    p = rng.uniform(0.2, 0.8, 600)
    rows = PairedRows(ts, p, p, (rng.random(600) < p).astype(float))
    spec = make_spec(analysis={**ANALYSIS, "judgement": {}})
    step = spec.steps[2]
    assert isinstance(step, AnalysisStep)
    assert step.analysis.judgement is not None
    result = assess_judgement(
        rows, step.analysis.judgement, JudgementContext(1600.0, 1000.0, 60.0, 0.02, 60)
    )
    values = {Query.ECE: 0.2, Query.ERROR_RATE: float("nan"), Query.LATENCY_P95: 0.1}
    thresholds = Thresholds(100, ece_max=0.06, error_rate_max=0.01, latency_p95_max_seconds=0.3)
    checks = assess_judged_checks(values, thresholds, result)
    by_name = {c.name: c for c in checks}
    assert by_name["ece"].verdict is Verdict.READING
    assert not by_name["ece"].gating
    assert by_name["errorRate"].verdict is Verdict.READING  # no requests: not a gate
    assert by_name["latencyP95"].verdict is Verdict.PASS
    assert by_name["agreement"].verdict is Verdict.EQUIVALENT
    assert by_name["agreement"].n_eff == 10
    assert by_name["calibrationEce"].verdict is Verdict.READING
    assert assess_measurement(checks) is Verdict.PASS
    status = parse_canary_status({"phase": "Progressing"})
    body = build_canary_status(status.__class__(phase=Phase.PROGRESSING, checks=checks))
    assert "nan" not in str(body).lower()
    again = parse_canary_status(body).checks
    assert [(c.name, c.verdict, c.gating, c.n_eff) for c in again] == [
        (c.name, c.verdict, c.gating, c.n_eff) for c in checks
    ]
    assert build_canary_status(parse_canary_status(body)) == body


def test_inconclusive_looks_do_not_use_up_count_under_a_judgement() -> None:
    analysis = {**ANALYSIS, "inconclusiveLimit": 10, "judgement": {"budget": "30m"}}
    driver = Driver(make_spec(analysis=analysis))
    driver.tick()
    driver.tick()
    driver.tick(after=60)
    for _ in range(4):  # count 3: without a judgement the run would end inconclusive here
        decision = driver.tick(observe(measurement=UNSURE), after=60)
    assert (decision.status.phase, decision.status.current_step) == (Phase.PROGRESSING, 2)
    for _ in range(3):
        decision = driver.tick(observe(measurement=EQUIVALENT), after=60)
    assert c.REASON_ANALYSIS_PASSED in [e.reason for e in decision.events]
