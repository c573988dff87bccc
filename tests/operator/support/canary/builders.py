"""Builders for canary core tests: a spec, observations, measurements, and a ticking driver."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from levibot_operator.core.canary.analysis import CheckVerdict, Verdict
from levibot_operator.core.canary.decision import (
    CanaryDecision,
    CanaryObservation,
    CanaryState,
    Measurement,
)
from levibot_operator.core.canary.machine import decide_canary
from levibot_operator.core.canary.spec import CanarySpec, parse_canary_spec
from levibot_operator.core.canary.status import CanaryStatus

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

# setWeight 10 → pause 1m → analysis (1m x 3) → setWeight 50 → pause until resumed → 100.
STEPS: list[dict[str, Any]] = [
    {"setWeight": 10},
    {"pause": {"duration": "1m"}},
    {"analysis": {}},
    {"setWeight": 50},
    {"pause": {"untilResumed": True}},
    {"setWeight": 100},
]
ANALYSIS: dict[str, Any] = {
    "interval": "1m",
    "count": 3,
    "failureLimit": 0,
    "inconclusiveLimit": 1,
    "consecutiveErrorLimit": 2,
    "thresholds": {"minSamples": 100, "eceMax": 0.06, "psiMax": 0.2},
}


def spec_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "target": "btc-direction",
        "candidate": {"version": "v2"},
        "steps": STEPS,
        "analysis": ANALYSIS,
    }
    body.update(overrides)
    return body


def make_spec(**overrides: Any) -> CanarySpec:
    return parse_canary_spec(spec_body(**overrides))


def observe(**fields: Any) -> CanaryObservation:
    """A healthy observation of a target serving v1, with the given fields changed."""
    base = CanaryObservation(stable_version="v1", next_version="v2", candidate_available=True)
    return replace(base, **fields)


def check(verdict: Verdict, name: str = "ece", value: float = 0.03) -> CheckVerdict:
    return CheckVerdict(name, value, 0.06, "<=", verdict, verdict.value)


PASSING = Measurement(verdicts=(check(Verdict.PASS),))
FAILING = Measurement(
    verdicts=(check(Verdict.PASS, "samples", 500), check(Verdict.FAIL, value=0.09))
)
INCONCLUSIVE = Measurement(verdicts=(check(Verdict.INCONCLUSIVE, "samples", 3),))
ERRORED = Measurement(error="prometheus unreachable")


class Driver:
    """Steps a canary tick by tick, carrying the status like the operator would."""

    def __init__(self, spec: CanarySpec, status: CanaryStatus | None = None) -> None:
        self.spec = spec
        self.status = status or CanaryStatus()
        self.now = T0
        self.decisions: list[CanaryDecision] = []

    def tick(self, observed: CanaryObservation | None = None, after: float = 0) -> CanaryDecision:
        self.now += timedelta(seconds=after)
        decision = decide_canary(
            CanaryState(self.spec, self.status), observed or observe(), self.now
        )
        self.status = decision.status
        self.decisions.append(decision)
        return decision


# A judgement that sets every field away from its default (parser and CRD tests).
FULL_JUDGEMENT: dict[str, Any] = {
    "alpha": 0.01,
    "blockSeconds": 400,
    "budget": "90m",
    "onInconclusive": "rollback",
    "agreement": {"onDifferent": "evaluate", "blockSeconds": 60, "lags": 6},
    "nonInferiority": {"metric": "brier", "tolerance": 0.002},
    "calibration": {"alpha": 0.001},
}
