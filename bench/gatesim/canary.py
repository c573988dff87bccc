"""One simulated canary through the operator's own state machine, and the ``Gate`` seam.

Benchmark helper. The specs are ``specs/today.yaml`` (``examples/canary.yaml`` before issue 13)
and ``specs/production.yaml`` (the production judgement), parsed by the operator's
``parse_canary_spec`` (steps, pauses, analysis interval / count / limits, thresholds and
judgement as written), except that the candidate is an existing version
(``candidate: {version: v2}``) instead of ``train: true``: the training phase is not measured.

``run_canary`` steps ``decide_canary`` one tick at a time with a simulated clock (no sleeping):
each tick happens ``requeue_after`` after the previous one, as the operator requeues; between
ticks the traffic is served at the weight the machine last asked for (achieved at once). When
the current step is an analysis step, the observation carries the ``Gate``'s measurement.

The seam. A gate is any callable ``gate(log, now, analysis, status) -> Measurement``: ``log`` is the
canary's ``PairedLog`` (per request: ts, symbol, p_stable, p_candidate, served track, outcome,
resolved_at; a gate must read only rows with ``ts <= now`` and outcomes with
``resolved_at <= now``, or call ``log.view(now)``), ``now`` the simulated time in seconds,
``analysis`` the current step's parsed ``AnalysisSpec``, ``status`` the canary's status (its
``judgement_since``, set at the first step, is the judgement's window start for every analysis
step, as in the operator's shell); it returns
the operator's ``Measurement`` (check verdicts). Today's gates are ``today.TodayGate``; the new
ones are ``judged.JudgedGate`` (the operator's ``assess_judgement``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from gatesim.traffic import PairedLog
from levibot_operator.core.canary.decision import (
    CanaryObservation,
    CanaryState,
    Measurement,
)
from levibot_operator.core.canary.machine import decide_canary
from levibot_operator.core.canary.spec import (
    AnalysisSpec,
    AnalysisStep,
    CanarySpec,
    parse_canary_spec,
)
from levibot_operator.core.canary.status import CanaryStatus, Phase

Gate = Callable[[PairedLog, float, AnalysisSpec, CanaryStatus], Measurement]
SPECS = Path(__file__).resolve().parent / "specs"
TODAY_SPEC, PRODUCTION_SPEC = SPECS / "today.yaml", SPECS / "production.yaml"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
MAX_TICKS = 10_000


@dataclass(frozen=True)
class CanaryOutcome:
    """How a canary ended: ``rolled_back``, ``promoted`` or ``paused``, and after how long."""

    verdict: str
    seconds: float
    reason: str


def load_spec(path: Path = TODAY_SPEC, on_different: str | None = None) -> CanarySpec:
    """A spec, parsed by the operator, with an existing candidate version; ``on_different``
    overrides the judgement's ``agreement.onDifferent`` (the ``evaluate`` gate set)."""
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    spec = {**document["spec"], "candidate": {"version": "v2"}}
    if on_different is not None:
        judgement = spec["analysis"]["judgement"]
        judgement["agreement"] = {**judgement.get("agreement", {}), "onDifferent": on_different}
    return parse_canary_spec(spec)


def plan_span(spec: CanarySpec) -> float:
    """Longest time (s) a canary can take when every analysis passes at its last look (a
    judgement's run may take its whole budget)."""
    total = 0.0
    for step in spec.steps:
        if isinstance(step, AnalysisStep):
            a = step.analysis
            looks = a.interval.total_seconds() * (a.count + 1)
            budget = a.judgement.budget.total_seconds() if a.judgement else 0.0
            total += max(looks, budget + a.interval.total_seconds())
        elif hasattr(step, "duration") and step.duration is not None:
            total += step.duration.total_seconds()
    return total + 120.0


def _measure(spec: CanarySpec, status: CanaryStatus, gate: Gate, log: PairedLog,
             now: float) -> Measurement | None:  # fmt: skip
    if status.phase is not Phase.PROGRESSING or status.current_step >= len(spec.steps):
        return None
    step = spec.steps[status.current_step]
    return gate(log, now, step.analysis, status) if isinstance(step, AnalysisStep) else None


def _observe(status: CanaryStatus, measurement: Measurement | None) -> CanaryObservation:
    return CanaryObservation(
        stable_version="v1", next_version="v2", candidate_available=True,
        achieved_weight=float(status.desired_weight), measurement=measurement,
    )  # fmt: skip


def run_canary(spec: CanarySpec, log: PairedLog, gate: Gate, start: float,
               limit: float) -> CanaryOutcome:  # fmt: skip
    """Step the machine from ``start`` until a verdict (or ``limit``, counted as paused)."""
    log.assign_tracks(start, 0.0)  # before the canary, the stable serves everything
    status, now = CanaryStatus(), start
    for _ in range(MAX_TICKS):
        log.assign_tracks(now, float(status.desired_weight))
        seen = _observe(status, _measure(spec, status, gate, log, now))
        decision = decide_canary(CanaryState(spec, status), seen, EPOCH + timedelta(seconds=now))
        status = decision.status
        outcome = _classify(status, decision.requeue_after, now - start)
        if outcome is not None:
            return outcome
        now += max(
            decision.requeue_after or timedelta(seconds=1), timedelta(seconds=0)
        ).total_seconds()
        if now > limit:
            return CanaryOutcome("paused", now - start, "simulation limit")
    raise RuntimeError("canary: no verdict within MAX_TICKS ticks")


def _classify(
    status: CanaryStatus, requeue: timedelta | None, elapsed: float
) -> CanaryOutcome | None:
    if status.phase is Phase.SUCCEEDED:
        return CanaryOutcome("promoted", elapsed, status.reason)
    if status.phase is Phase.ROLLED_BACK:
        return CanaryOutcome("rolled_back", elapsed, status.message)
    if status.phase is Phase.PAUSED and requeue is None:
        return CanaryOutcome("paused", elapsed, status.message)
    if status.phase is Phase.FAILED:
        return CanaryOutcome("failed", elapsed, status.message)
    return None
