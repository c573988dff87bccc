"""Canary conditions derived from the status alone: a table over every phase, and the
lastTransitionTime kept while a condition's status holds (so a repeat writes nothing)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from levibot_operator.core.canary.conditions import CONDITION_TYPES, plan_conditions
from levibot_operator.core.canary.status import CanaryStatus, Phase

T0 = datetime(2026, 11, 3, 12, 0, 0, 123456, tzinfo=UTC)
TRUE_BY_PHASE = {
    Phase.PENDING: {"Progressing"},
    Phase.TRAINING: {"Progressing"},
    Phase.PROGRESSING: {"Progressing"},
    Phase.PROMOTING: {"Progressing"},
    Phase.PAUSED: {"Paused"},
    Phase.HALTED: {"Paused"},
    Phase.SUCCEEDED: {"Promoted", "Ready"},
    Phase.ROLLED_BACK: {"RolledBack", "Ready"},
    Phase.FAILED: set(),
}


def settled(phase: Phase) -> CanaryStatus:
    weight = 100.0 if phase is Phase.SUCCEEDED else 0.0
    return CanaryStatus(phase=phase, reason="AlertFiring", message="m", achieved_weight=weight)


@pytest.mark.parametrize("phase", list(Phase))
def test_each_phase_sets_its_conditions(phase: Phase) -> None:
    conds = plan_conditions(settled(phase), (), T0, 3)
    assert [c["type"] for c in conds] == list(CONDITION_TYPES)
    assert {c["type"] for c in conds if c["status"] == "True"} == TRUE_BY_PHASE[phase]
    for cond in conds:
        held = cond["status"] == "True"
        assert cond["reason"] == ("AlertFiring" if held else phase.value)
        assert (cond["message"], cond["observedGeneration"]) == ("m", 3)
        assert cond["lastTransitionTime"] == "2026-11-03T12:00:00Z"


def test_ready_waits_for_the_traffic_to_settle() -> None:
    status = replace(settled(Phase.ROLLED_BACK), achieved_weight=33.3)
    ready = plan_conditions(status, (), T0, 1)[-1]
    assert (ready["type"], ready["status"], ready["reason"]) == (
        "Ready",
        "False",
        "TrafficSettling",
    )


def test_the_transition_time_moves_only_when_the_status_does() -> None:
    paused = plan_conditions(settled(Phase.PAUSED), (), T0, 1)
    later = T0 + timedelta(minutes=5)
    again = plan_conditions(replace(settled(Phase.PAUSED), message="other"), paused, later, 1)
    assert [c["lastTransitionTime"] for c in again] == [c["lastTransitionTime"] for c in paused]
    rolled = {c["type"]: c for c in plan_conditions(settled(Phase.ROLLED_BACK), again, later, 1)}
    assert rolled["Paused"]["lastTransitionTime"] == "2026-11-03T12:05:00Z"
    assert rolled["RolledBack"]["lastTransitionTime"] == "2026-11-03T12:05:00Z"
    assert rolled["Progressing"]["lastTransitionTime"] == "2026-11-03T12:00:00Z"


def test_a_reason_kubernetes_would_refuse_falls_back_to_the_phase() -> None:
    status = CanaryStatus(phase=Phase.PAUSED, reason="not camel case", message="")
    paused = plan_conditions(status, (), T0, 1)[1]
    assert (paused["reason"], paused["message"]) == ("Paused", "phase Paused")
